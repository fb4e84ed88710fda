// hostile: log flood with long module names: stacks 200 frames deep through a module with a 300-character name, each frame mapped to that name (60 KB a stack), logged up to the per-request output limit, 8 requests (2 MB)
// deploy: {"limits": {"cpuMs": 2000}, "modules": {"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm.js": "export function deep(n) { if (n === 0) throw new Error('deep'); return deep(n - 1) + 1; }"}}
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// request: GET /
// expect: status=200 body="logged"
// logs: len<=1200000 linelen<=17000
import { deep } from "./mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm.js";
export default {
  fetch() {
    for (let i = 0; i < 8; i++) {
      try { deep(200); } catch (e) { console.error(e.stack); }
    }
    return new Response("logged");
  },
};
