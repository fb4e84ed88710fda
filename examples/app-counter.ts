// An app for the built-in supervisor: a Durable Object class App with its own
// SQLite database, counting visits per path.
//
//   warren deploy counter examples/app-counter.ts
//   curl localhost:8080/apps/counter/hello     # {"path":"/hello","count":1,"total":1}
import { DurableObject } from "cloudflare:workers";

export class App extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (path TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  fetch(request: Request): Response {
    const path = new URL(request.url).pathname;
    const sql = this.ctx.storage.sql;
    const count = sql
      .exec("INSERT INTO hits (path, n) VALUES (?, 1) ON CONFLICT(path) DO UPDATE SET n = n + 1 RETURNING n", path)
      .one().n as number;
    const total = sql.exec("SELECT SUM(n) AS total FROM hits").one().total as number;
    console.log(`hit ${path}: ${count}`);
    return Response.json({ path, count, total });
  }
}
