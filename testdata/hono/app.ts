import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { html } from 'hono/html'
import { HTTPException } from 'hono/http-exception'

type Bindings = Record<string, unknown>

interface User {
  id: string
  name: string
}

const app = new Hono<{ Bindings: Bindings }>()

app.use('*', cors({ origin: '*', allowMethods: ['GET', 'POST', 'OPTIONS'] }))

app.get('/', (c) => c.text('Hello Hono!'))

app.get('/json', (c) => c.json({ ok: true, framework: 'hono', items: [1, 2, 3] }))

app.get('/users/:id', (c) => {
  const id = c.req.param('id')
  const user: User = { id, name: `User ${id}` }
  return c.json(user)
})

app.post('/echo', async (c) => {
  const body = await c.req.json<Record<string, unknown>>()
  return c.json({ received: body })
})

app.get('/teapot', () => {
  throw new HTTPException(418, { message: "I'm a teapot" })
})

app.get('/boom', () => {
  throw new Error('something broke')
})

app.get('/page/:name', (c) => {
  const name = c.req.param('name')
  const items = ['one', 'two']
  return c.html(html`<!doctype html>
<h1>Hello, ${name}!</h1>
<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`)
})

const api = new Hono()
api.get('/health', (c) => c.json({ status: 'ok' }))
api.get('/items/:id', (c) => c.json({ item: Number(c.req.param('id')) }))
app.route('/api', api)

app.notFound((c) => c.json({ error: 'not found', path: c.req.path }, 404))

app.onError((err, c) => {
  if (err instanceof HTTPException) {
    return c.json({ error: err.message }, err.status)
  }
  return c.json({ error: 'internal', message: err.message }, 500)
})

export default app
