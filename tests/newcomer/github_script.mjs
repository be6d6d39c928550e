// Runs one `actions/github-script` script outside GitHub, as that action runs it: the body of
// an async function given `github`, `context`, `core` and `require`. Here `github` and
// `core` record what the script asks of them, and `github` answers from canned replies.
//
// Usage: node github_script.mjs CASE.json   (run in the folder the script reads files from)
// CASE: {script, env, context, replies: {"issues.listComments": [...], ...}}
// Prints {calls: [[method, params]], outputs, failed, notices, summary} as JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
Object.assign(process.env, input.env ?? {});
const replies = input.replies ?? {};
const record = { calls: [], outputs: {}, failed: null, notices: [], summary: "" };

function endpoint(method) {
  const call = async (params) => {
    record.calls.push([method, params]);
    return { data: replies[method] ?? {} };
  };
  call.method = method;
  return call;
}

// github.rest.<group>.<method>: any endpoint, by its name.
const rest = new Proxy({}, {
  get: (_, group) => new Proxy({}, { get: (__, name) => endpoint(`${group}.${name}`) }),
});
const github = {
  rest,
  paginate: async (fn, params) => {
    record.calls.push([fn.method, params]);
    return replies[fn.method] ?? [];
  },
};
const core = {
  setOutput: (name, value) => { record.outputs[name] = String(value); },
  setFailed: (message) => { record.failed = String(message); },
  notice: (message) => { record.notices.push(String(message)); },
  summary: {
    addRaw(text) { record.summary += text; return this; },
    async write() { return this; },
  },
};
const context = {
  serverUrl: "https://github.com",
  runId: 1,
  payload: {},
  ...input.context,
  get issue() { return { ...this.repo, number: input.context.issue_number }; },
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const run = new AsyncFunction("github", "context", "core", "require", input.script);
await run(github, context, core, createRequire(import.meta.url));
console.log(JSON.stringify(record));
