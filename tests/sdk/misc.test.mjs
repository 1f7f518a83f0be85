// Beyond single operations: host-style addressing (where the SDK's rename
// destination clients are well formed), names that need URL and XML
// escaping, the emulator's per-operation counters as the SDK drives them,
// and a restart that must keep every byte and property.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ShareServiceClient } from "@azure/storage-file-share";
import {
  AUTH_MODES,
  BIG,
  T,
  accountSas,
  downloadBytes,
  expectRestError,
  hostStyleService,
  listAll,
  randomData,
  sharedKeyCredential,
  sharedKeyService,
  startEmulator,
  stats,
  uniq,
} from "./helpers.mjs";

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const HOST_MODES = [
  { name: "shared key", service: (e) => hostStyleService(e) },
  { name: "account SAS", service: (e) => hostStyleService(e, { sas: accountSas() }) },
];

for (const mode of HOST_MODES) {
  describe(`host-style addressing (${mode.name})`, () => {
    it("shares, directories, files, listing and rename", T, async () => {
      const svc = mode.service(emu);
      assert.match(svc.url, /^http:\/\/devstoreaccount1\.file\.localhost:\d+/);
      const share = svc.getShareClient(uniq("host"));
      await share.create({ quota: 3 });
      assert.equal((await share.getProperties()).quota, 3);
      const d = share.getDirectoryClient("dir");
      await d.create();
      const f = d.getFileClient("a.txt");
      await f.uploadData(Buffer.from("host style"));
      assert.equal((await downloadBytes(f)).bytes.toString(), "host style");
      const { destinationFileClient: g } = await f.rename("dir/b.txt");
      // host-style, the SDK's destination client is well formed and usable
      assert.equal(g.path, "dir/b.txt");
      assert.equal((await downloadBytes(g)).bytes.toString(), "host style");
      const { files } = await listAll(d);
      assert.deepEqual(files.map((x) => x.name), ["b.txt"]);
      const { destinationDirectoryClient: e } = await d.rename("renamed");
      assert.equal(e.path, "renamed");
      assert.ok(await e.exists());
      await expectRestError(f.getProperties(), 404, "ParentNotFound");
      // host-style and path-style address the same account
      const names = [];
      for await (const s of sharedKeyService(emu).listShares({ prefix: share.name })) names.push(s.name);
      assert.deepEqual(names, [share.name]);
    });
  });
}

for (const mode of AUTH_MODES) {
  describe(`names that need escaping (${mode.name})`, () => {
    it("round-trip through create, get, list and delete", T, async () => {
      const share = mode.service(emu).getShareClient(uniq("esc"));
      await share.create();
      const d = share.getDirectoryClient("dir with spaces & signs+=;,");
      await d.create();
      const names = [
        "plain.txt",
        "space name.txt",
        "percent%20literal.txt",
        "hash#tag.txt",
        "plus+and&amp=.txt",
        "quote'single.txt",
        "brackets[1]{2}(3).txt",
        "unicode-é中文-😀.txt",
        "tilde~caret^back`tick.txt",
        "xml<not>allowed-but-amp&.txt".replace(/[<>]/g, "_"),
        "trailing.dot.",
        "\ufffeffe-name.txt",
      ];
      for (const [i, n] of names.entries()) {
        await d.getFileClient(n).uploadData(Buffer.from(`content ${i}`));
      }
      for (const [i, n] of names.entries()) {
        const { bytes } = await downloadBytes(d.getFileClient(n));
        assert.equal(bytes.toString(), `content ${i}`, n);
      }
      const { files } = await listAll(d);
      assert.deepEqual(
        files.map((f) => f.name).sort(),
        [...names].sort(),
      );
      const top = await listAll(share.rootDirectoryClient);
      assert.deepEqual(top.dirs.map((x) => x.name), ["dir with spaces & signs+=;,"]);
      for (const n of names) await d.getFileClient(n).delete();
      await d.delete();
    });
  });
}

describe("emulator counters follow the SDK's requests", () => {
  it("counts CreateFile and PutRange per request", BIG, async () => {
    const svc = sharedKeyService(emu);
    const share = svc.getShareClient(uniq("cnt"));
    await share.create();
    const f = share.rootDirectoryClient.getFileClient("big.bin");
    const r = await fetch(`${emu.base}/_emulator/reset`, { method: "POST" });
    assert.equal(r.status, 200);
    const zero = await stats(emu);
    assert.equal(zero.total, 0);
    // 9 MiB + 1 byte: one Create File and three Put Range of at most 4 MiB
    await f.uploadData(randomData(9 * 1024 * 1024 + 1));
    await f.getProperties();
    await f.download(0, 10).then((x) => x.readableStreamBody.resume());
    await f.getRangeList();
    await share.rootDirectoryClient.listFilesAndDirectories().byPage().next();
    const s = await stats(emu);
    assert.equal(s.ops.CreateFile, 1);
    assert.equal(s.ops.PutRange, 3);
    assert.equal(s.ops.GetFileProperties, 1);
    assert.equal(s.ops.GetFile, 1);
    assert.equal(s.ops.ListRanges, 1);
    assert.equal(s.ops.ListDirectoriesAndFiles, 1);
    assert.equal(s.total, 8);
  });
});

describe("faults reach the SDK as the service's errors", () => {
  async function setFaults(spec) {
    const r = await fetch(`${emu.base}/_emulator/faults`, { method: "PUT", body: spec });
    assert.equal(r.status, 200, await r.text());
  }

  it("503 ServerBusy and 500 OperationTimedOut, retried by the SDK", T, async () => {
    const svc = sharedKeyService(emu);
    const share = svc.getShareClient(uniq("flt"));
    await share.create();
    const f = share.rootDirectoryClient.getFileClient("f");
    await f.uploadData(Buffer.from("steady"));
    try {
      await setFaults("503:1.0@GetFile:count=1");
      await expectRestError(f.download(), 503, "ServerBusy");
      assert.equal((await downloadBytes(f)).bytes.toString(), "steady");
      await setFaults("500:1.0@PutRange:count=1");
      await expectRestError(f.uploadRange(Buffer.from("X"), 0, 1), 500, "OperationTimedOut");
      assert.equal((await downloadBytes(f)).bytes.toString(), "steady", "a faulted write changes nothing");

      // with the SDK's own retry policy the same faults are invisible
      const retrying = new ShareServiceClient(emu.url, sharedKeyCredential(), {
        retryOptions: { maxTries: 4, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
      });
      const rf = retrying.getShareClient(share.name).rootDirectoryClient.getFileClient("f");
      await setFaults("503:1.0@PutRange:count=2,drop:1.0@GetFile:count=1");
      await rf.uploadRange(Buffer.from("S"), 0, 1);
      assert.equal((await downloadBytes(rf)).bytes.toString(), "Steady");
    } finally {
      await setFaults("");
    }
  });
});

describe("restart keeps everything", () => {
  it("bytes, sizes, metadata, headers, times, leases and permissions survive", BIG, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "azsf-sdk-restart-"));
    let first = null;
    let second = null;
    try {
      first = await startEmulator({ dataDir });
      let svc = sharedKeyService(first);
      const share = svc.getShareClient("keep");
      await share.create({ quota: 9, metadata: { s: "1" } });
      const { filePermissionKey } = await share.createPermission(
        "O:S-1-5-88-1-1000G:S-1-5-88-2-1000D:P(A;;FA;;;S-1-5-88-1-1000)",
      );
      await share.getDirectoryClient("d").create({ metadata: { dm: "x" } });
      const f = share.rootDirectoryClient.getFileClient("d/data.bin");
      const data = randomData(5 * 1024 * 1024 + 77);
      await f.uploadData(data, { metadata: { fm: "y" }, fileHttpHeaders: { fileContentType: "application/x-test" } });
      await f.clearRange(0, 512);
      const lw = new Date("2022-02-02T02:02:02.222Z");
      // Set File Properties clears content headers it is not given
      await f.setProperties({
        lastWriteTime: lw,
        filePermissionKey,
        fileHttpHeaders: { fileContentType: "application/x-test" },
      });
      await f.getShareLeaseClient("11111111-2222-3333-4444-555555555555").acquireLease();
      const before = await f.getProperties();
      await first.stop();
      first = null;

      second = await startEmulator({ dataDir });
      svc = sharedKeyService(second);
      const s2 = svc.getShareClient("keep");
      const sp = await s2.getProperties();
      assert.equal(sp.quota, 9);
      assert.deepEqual(sp.metadata, { s: "1" });
      assert.equal(
        (await s2.getPermission(filePermissionKey)).permission,
        "O:S-1-5-88-1-1000G:S-1-5-88-2-1000D:P(A;;FA;;;S-1-5-88-1-1000)",
      );
      assert.deepEqual((await s2.getDirectoryClient("d").getProperties()).metadata, { dm: "x" });
      const g = s2.rootDirectoryClient.getFileClient("d/data.bin");
      const p = await g.getProperties();
      assert.equal(p.contentLength, data.length);
      assert.equal(p.etag, before.etag);
      assert.equal(p.contentType, "application/x-test");
      assert.deepEqual(p.metadata, { fm: "y" });
      assert.equal(p.fileLastWriteOn.getTime(), lw.getTime());
      assert.equal(p.fileId, before.fileId);
      assert.equal(p.filePermissionKey, filePermissionKey);
      assert.equal(p.leaseState, "leased");
      const expect = Buffer.from(data);
      expect.fill(0, 0, 512);
      assert.ok((await downloadBytes(g)).bytes.equals(expect), "bytes differ after restart");
      assert.deepEqual((await g.getRangeList()).rangeList, [{ start: 512, end: data.length - 1 }]);
      await expectRestError(g.setMetadata({}), 412, "LeaseIdMissing");
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
