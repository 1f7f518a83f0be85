// Shared helpers for the SDK fidelity tests: start the emulator on a free
// port in a scratch data directory, stop it by PID (process group), build
// Shared Key and SAS clients over path-style URLs, and check RestErrors.
//
// Every test file starts its own emulator in before() and stops it in
// after(); an exit hook kills any emulator still running if the test process
// dies early, so no emulator outlives its test file.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import dns from "node:dns";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  AnonymousCredential,
  ShareServiceClient,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
} from "@azure/storage-file-share";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, "..", "..");
export const EMULATOR = join(ROOT, "tests", "emulator", "azfiles-emulator");
export const ACCOUNT = "devstoreaccount1";
export const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
// A valid base64 key that is not the account's: signatures made with it
// must be refused.
export const WRONG_KEY = Buffer.alloc(64, 7).toString("base64");

/** Per-test timeout (ms) for ordinary tests; big uploads use BIG. */
export const T = { timeout: 30_000 };
export const BIG = { timeout: 120_000 };

const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

/**
 * Start tests/emulator/azfiles-emulator --port 0 --data <tmp> and wait for
 * its first stdout line "listening on http://127.0.0.1:PORT/devstoreaccount1".
 */
export async function startEmulator({ args = [], startTimeoutMs = 20_000, dataDir = null } = {}) {
  const ownData = !dataDir;
  if (ownData) dataDir = mkdtempSync(join(tmpdir(), "azsf-sdk-"));
  const proc = spawn(EMULATOR, ["--port", "0", "--data", dataDir, ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (proc.pid) running.add(proc.pid);
  let spawnError = null;
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (s) => {
    stderr = (stderr + s).slice(-16_384);
  });
  const exited = new Promise((resolve) => {
    proc.once("exit", (code, sig) => resolve({ code, sig }));
    proc.once("error", (e) => {
      spawnError = e;
      resolve({ code: null, sig: null, error: e });
    });
  });
  const emu = {
    proc,
    pid: proc.pid,
    dataDir,
    stderr: () => stderr,
    async stop() {
      if (!spawnError && proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(-proc.pid, "SIGTERM");
        } catch {
          /* already gone */
        }
        const t = setTimeout(() => {
          try {
            process.kill(-proc.pid, "SIGKILL");
          } catch {
            /* already gone */
          }
        }, 5_000);
        await exited;
        clearTimeout(t);
      }
      running.delete(proc.pid);
      if (ownData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  let line;
  try {
    line = await firstLine(proc, exited, startTimeoutMs);
  } catch (e) {
    await emu.stop();
    throw new Error(`emulator did not start: ${e.message}\nstderr: ${stderr}`);
  }
  const m = /^listening on (https?:\/\/127\.0\.0\.1:(\d+))\/devstoreaccount1$/.exec(line);
  if (!m) {
    await emu.stop();
    throw new Error(`unexpected first line from emulator: ${JSON.stringify(line)}`);
  }
  emu.base = m[1];
  emu.port = Number(m[2]);
  emu.url = `${m[1]}/${ACCOUNT}`;
  return emu;
}

function firstLine(proc, exited, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms`)), timeoutMs);
    proc.stdout.setEncoding("utf8");
    const onData = (s) => {
      buf += s;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        proc.stdout.off("data", onData);
        proc.stdout.resume(); // keep draining so the emulator never blocks
        resolve(buf.slice(0, nl).replace(/\r$/, ""));
      }
    };
    proc.stdout.on("data", onData);
    exited.then(({ code, sig, error }) => {
      clearTimeout(timer);
      if (error) reject(new Error(`cannot run ${EMULATOR}: ${error.message}`));
      else reject(new Error(`emulator exited (code ${code}, signal ${sig}) before its first line`));
    });
  });
}

/** Client options: no retries, so every status reaches the test as sent. */
// allowTrailingDot: names such as "trailing.dot." keep their dot (the service trims it otherwise).
export const CLIENT_OPTS = { retryOptions: { maxTries: 1 }, allowTrailingDot: true, allowSourceTrailingDot: true };

export function sharedKeyCredential(key = KEY) {
  return new StorageSharedKeyCredential(ACCOUNT, key);
}

export function sharedKeyService(emu, key = KEY) {
  return new ShareServiceClient(emu.url, sharedKeyCredential(key), CLIENT_OPTS);
}

/** An account SAS (ss=f) query string signed with the account key. */
export function accountSas({
  permissions = "rwdlc",
  resourceTypes = "sco",
  services = "f",
  expiresOn = new Date(Date.now() + 3600_000),
  startsOn,
  protocol,
  key = KEY,
} = {}) {
  return generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse(permissions),
      resourceTypes: AccountSASResourceTypes.parse(resourceTypes).toString(),
      services: AccountSASServices.parse(services).toString(),
      expiresOn,
      startsOn,
      protocol,
    },
    sharedKeyCredential(key),
  ).toString();
}

export function accountSasService(emu, opts = {}) {
  return new ShareServiceClient(`${emu.url}?${accountSas(opts)}`, new AnonymousCredential(), CLIENT_OPTS);
}

/**
 * Host-style addressing: http://devstoreaccount1.file.localhost:PORT.
 */
export function hostStyleUrl(emu) {
  return `http://${ACCOUNT}.file.localhost:${emu.port}`;
}

// RFC 6761: names under .localhost are loopback. This resolver does not map
// them, so the test process maps them itself (only them) to 127.0.0.1.
let localhostResolver = false;
function installLocalhostResolver() {
  if (localhostResolver) return;
  localhostResolver = true;
  const original = dns.lookup;
  dns.lookup = function lookup(hostname, options, callback) {
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    if (typeof hostname === "string" && /(^|\.)localhost$/i.test(hostname)) {
      const all = typeof options === "object" && options?.all;
      if (all) process.nextTick(callback, null, [{ address: "127.0.0.1", family: 4 }]);
      else process.nextTick(callback, null, "127.0.0.1", 4);
      return {};
    }
    return original.call(dns, hostname, options, callback);
  };
}

export function hostStyleService(emu, { sas = null } = {}) {
  installLocalhostResolver();
  if (sas) return new ShareServiceClient(`${hostStyleUrl(emu)}?${sas}`, new AnonymousCredential(), CLIENT_OPTS);
  return new ShareServiceClient(hostStyleUrl(emu), sharedKeyCredential(), CLIENT_OPTS);
}

/** The two ways every operation suite is run. */
export const AUTH_MODES = [
  { name: "shared key", service: (emu) => sharedKeyService(emu) },
  { name: "account SAS", service: (emu) => accountSasService(emu) },
];

/** Unique lowercase name (valid as a share name). */
export function uniq(prefix = "s") {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

export async function streamToBuffer(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

export async function downloadBytes(fileClient, offset = 0, count = undefined, options = {}) {
  const resp = await fileClient.download(offset, count, options);
  return { resp, bytes: await streamToBuffer(resp.readableStreamBody) };
}

export function randomData(n) {
  return randomBytes(n);
}

/**
 * Await `action` and check it fails with an HTTP status and an error code:
 * the x-ms-error-code header (err.details.errorCode) and, for non-HEAD
 * requests, the <Code> of the XML error body (with a Message carrying
 * RequestId and Time like the real service). Returns the error.
 */
export async function expectRestError(action, status, code) {
  let err = null;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${status} ${code}, but the call succeeded`);
  const body = err.response?.bodyAsText ?? "";
  const where = `${err.request?.method} ${err.request?.url}: ${err.message} body=${JSON.stringify(body)}`;
  assert.equal(err.name, "RestError", `not a RestError: ${where}`);
  assert.equal(err.statusCode, status, `status for ${where}`);
  const header = err.details?.errorCode ?? err.response?.headers?.get("x-ms-error-code");
  assert.equal(header, code, `x-ms-error-code for ${where}`);
  if (err.request?.method === "HEAD") {
    assert.equal(body, "", `HEAD error must have no body: ${where}`);
  } else if (code) {
    const m = /<Code>([^<]*)<\/Code>/.exec(body);
    assert.ok(m, `error body has no <Code>: ${where}`);
    assert.equal(m[1], code, `<Code> in body for ${where}`);
    assert.match(body, /<Message>[^<]*\nRequestId:[0-9a-f-]+\nTime:[0-9T:.-]+Z<\/Message>/, where);
  }
  return err;
}

/** Names as the SDK iterator yields them, split by kind. */
export async function listAll(dirClient, options = {}) {
  const dirs = [];
  const files = [];
  for await (const item of dirClient.listFilesAndDirectories(options)) {
    (item.kind === "directory" ? dirs : files).push(item);
  }
  return { dirs, files };
}

/** Fetch the emulator's per-operation counters (no auth needed). */
export async function stats(emu) {
  const r = await fetch(`${emu.base}/_emulator/stats`);
  assert.equal(r.status, 200);
  return r.json();
}
