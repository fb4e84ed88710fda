// TEMPORARY minimal URL until the real implementation lands.
class URL {
  constructor(input, base) {
    const r = host("url.parse", String(input), base === undefined ? null : String(base));
    if (r === null) throw new TypeError("Invalid URL: " + JSON.stringify(String(input)));
    Object.assign(this, JSON.parse(r));
  }
  toString() { return this.href; }
  toJSON() { return this.href; }
}
defineGlobal("URL", URL);
