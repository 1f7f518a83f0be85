// Files through the SDK, with Shared Key and with an account SAS: create,
// upload (one range and > 4 MiB), ranges (upload, clear, list), download
// (whole, ranged, 416), properties, HTTP headers, resize, SMB times,
// metadata, delete, and the error codes of each.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AUTH_MODES,
  BIG,
  T,
  downloadBytes,
  expectRestError,
  randomData,
  startEmulator,
  uniq,
} from "./helpers.mjs";

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const MiB = 1024 * 1024;

function near(date, ms = 60_000) {
  return date instanceof Date && Math.abs(date.getTime() - Date.now()) < ms;
}

for (const mode of AUTH_MODES) {
  describe(`files (${mode.name})`, () => {
    let share;
    let dir;
    before(async () => {
      share = mode.service(emu).getShareClient(uniq("files"));
      await share.create();
      dir = share.getDirectoryClient("d");
      await dir.create();
    });

    it("create reports size and SMB properties", T, async () => {
      const f = dir.getFileClient(uniq("c"));
      const r = await f.create(1234, {
        metadata: { k1: "v1" },
        fileHttpHeaders: { fileContentType: "text/csv" },
      });
      assert.match(r.etag, /^"0x[0-9A-F]+"$/);
      assert.equal(r.fileAttributes, "Archive");
      assert.match(r.filePermissionKey, /^\d+\*\d+$/);
      assert.match(r.fileId, /^\d+$/);
      assert.equal(r.fileParentId, (await dir.getProperties()).fileId);
      assert.ok(near(r.fileCreatedOn) && near(r.fileLastWriteOn) && near(r.fileChangeOn));
      assert.equal(r.isServerEncrypted, true);

      const p = await f.getProperties();
      assert.equal(p.contentLength, 1234);
      assert.equal(p.fileType, "File");
      assert.equal(p.contentType, "text/csv");
      assert.deepEqual(p.metadata, { k1: "v1" });
      assert.equal(p.etag, r.etag);
      assert.equal(p.lastModified.getTime(), r.lastModified.getTime());
      assert.equal(p.fileId, r.fileId);
      assert.equal(p.fileCreatedOn.getTime(), r.fileCreatedOn.getTime());
      assert.equal(p.leaseState, "available");
      assert.equal(p.leaseStatus, "unlocked");
      assert.equal(p.isServerEncrypted, true);

      // a new file reads as zeros
      const { bytes } = await downloadBytes(f);
      assert.ok(bytes.equals(Buffer.alloc(1234)));
      // ranges list is empty for a file never written
      assert.deepEqual((await f.getRangeList()).rangeList, []);
    });

    it("create over an existing file replaces it", T, async () => {
      const f = dir.getFileClient(uniq("re"));
      await f.uploadData(Buffer.from("old contents"));
      await f.setMetadata({ old: "yes" });
      const before = await f.getProperties();
      await f.create(3);
      const p = await f.getProperties();
      assert.equal(p.contentLength, 3);
      assert.deepEqual(p.metadata, {});
      assert.notEqual(p.etag, before.etag);
      const { bytes } = await downloadBytes(f);
      assert.ok(bytes.equals(Buffer.alloc(3)));
    });

    it("create under a missing directory is ParentNotFound", T, async () => {
      await expectRestError(share.getDirectoryClient(uniq("nodir")).getFileClient("f").create(1), 404, "ParentNotFound");
    });

    it("uploadData small, download whole and ranged", T, async () => {
      const f = dir.getFileClient(uniq("small"));
      const data = Buffer.from("Hello, Azure Files! 0123456789");
      await f.uploadData(data);
      const whole = await downloadBytes(f);
      assert.ok(whole.bytes.equals(data));
      assert.equal(whole.resp.contentLength, data.length);
      assert.equal(whole.resp._response.status, 200);
      assert.equal(whole.resp.contentRange, undefined);

      const part = await downloadBytes(f, 7, 5);
      assert.equal(part.bytes.toString(), "Azure");
      assert.equal(part.resp._response.status, 206);
      assert.equal(part.resp.contentRange, `bytes 7-11/${data.length}`);
      assert.equal(part.resp.contentLength, 5);

      const tail = await downloadBytes(f, 20);
      assert.equal(tail.bytes.toString(), "0123456789");
      assert.equal(tail.resp.contentRange, `bytes 20-29/${data.length}`);

      // a count running past the end is cut at the end
      const past = await downloadBytes(f, 25, 100);
      assert.equal(past.bytes.toString(), "56789");
      assert.equal(past.resp.contentRange, `bytes 25-29/${data.length}`);
    });

    it("ranged download wholly past the end is 416 InvalidRange", T, async () => {
      const f = dir.getFileClient(uniq("r416"));
      await f.uploadData(Buffer.alloc(10, 0x61));
      const err = await expectRestError(f.download(10, 5), 416, "InvalidRange");
      assert.equal(err.response.headers.get("content-range"), "bytes */10");
      await expectRestError(f.download(100), 416, "InvalidRange");
    });

    it("range md5 on download", T, async () => {
      const f = dir.getFileClient(uniq("md5"));
      const data = Buffer.from("0123456789abcdef");
      await f.uploadData(data);
      const { resp, bytes } = await downloadBytes(f, 4, 8, { rangeGetContentMD5: true });
      assert.equal(bytes.toString(), "456789ab");
      const { createHash } = await import("node:crypto");
      assert.deepEqual(Buffer.from(resp.contentMD5), createHash("md5").update(bytes).digest());
    });

    it("uploadData > 4 MiB is stored byte for byte", BIG, async () => {
      const f = dir.getFileClient(uniq("big"));
      const data = randomData(9 * MiB + 12345);
      await f.uploadData(data, { concurrency: 3 });
      const p = await f.getProperties();
      assert.equal(p.contentLength, data.length);
      const { bytes } = await downloadBytes(f);
      assert.ok(bytes.equals(data), "downloaded bytes differ");
      const mid = await downloadBytes(f, 4 * MiB - 100, 200);
      assert.ok(mid.bytes.equals(data.subarray(4 * MiB - 100, 4 * MiB + 100)));
      const buf = await f.downloadToBuffer(0, undefined, { rangeSize: 2 * MiB, concurrency: 2 });
      assert.ok(buf.equals(data));
      const ranges = (await f.getRangeList()).rangeList;
      assert.deepEqual(ranges, [{ start: 0, end: data.length - 1 }]);
    });

    it("uploadRange, clearRange and getRangeList", T, async () => {
      const f = dir.getFileClient(uniq("rng"));
      await f.create(8192);
      const a = Buffer.alloc(512, 0x41);
      const b = Buffer.alloc(1024, 0x42);
      const ur = await f.uploadRange(a, 0, a.length);
      assert.match(ur.etag, /^"0x[0-9A-F]+"$/);
      assert.ok(ur.contentMD5, "Put Range returns Content-MD5");
      await f.uploadRange(b, 4096, b.length);
      let list = await f.getRangeList();
      assert.deepEqual(list.rangeList, [
        { start: 0, end: 511 },
        { start: 4096, end: 5119 },
      ]);
      assert.equal(list.fileContentLength, 8192);
      assert.match(list.etag, /^"0x[0-9A-F]+"$/);

      const got = await downloadBytes(f, 4096, 1024);
      assert.ok(got.bytes.equals(b));

      const cr = await f.clearRange(4096, 1024);
      assert.match(cr.etag, /^"0x[0-9A-F]+"$/);
      list = await f.getRangeList();
      assert.deepEqual(list.rangeList, [{ start: 0, end: 511 }]);
      const cleared = await downloadBytes(f, 4096, 1024);
      assert.ok(cleared.bytes.equals(Buffer.alloc(1024)));

      // a range query
      const sub = await f.getRangeList({ range: { offset: 256, count: 1024 } });
      assert.deepEqual(sub.rangeList, [{ start: 256, end: 511 }]);
    });

    it("uploadRange past the end of the file is refused", T, async () => {
      const f = dir.getFileClient(uniq("pe"));
      await f.create(100);
      await expectRestError(f.uploadRange(Buffer.alloc(10), 95, 10), 416, "InvalidRange");
      assert.equal((await f.getProperties()).contentLength, 100);
      await expectRestError(dir.getFileClient(uniq("nofile")).uploadRange(Buffer.alloc(1), 0, 1), 404, "ResourceNotFound");
    });

    it("uploadRange with a wrong Content-MD5 is Md5Mismatch", T, async () => {
      const f = dir.getFileClient(uniq("bad5"));
      await f.create(4);
      await expectRestError(
        f.uploadRange(Buffer.from("abcd"), 0, 4, { contentMD5: new Uint8Array(16) }),
        400,
        "Md5Mismatch",
      );
      const { bytes } = await downloadBytes(f);
      assert.ok(bytes.equals(Buffer.alloc(4)), "a refused range writes nothing");
    });

    it("set HTTP headers and read them back", T, async () => {
      const f = dir.getFileClient(uniq("hdr"));
      await f.uploadData(Buffer.from("{}"));
      const before = await f.getProperties();
      const md5 = new Uint8Array(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
      const r = await f.setHttpHeaders({
        fileContentType: "application/json",
        fileContentEncoding: "identity",
        fileContentLanguage: "en-GB",
        fileCacheControl: "no-cache",
        fileContentDisposition: "attachment; filename=a.json",
        fileContentMD5: md5,
      });
      assert.notEqual(r.etag, before.etag);
      const p = await f.getProperties();
      assert.equal(p.contentType, "application/json");
      assert.equal(p.contentEncoding, "identity");
      assert.equal(p.contentLanguage, "en-GB");
      assert.equal(p.cacheControl, "no-cache");
      assert.equal(p.contentDisposition, "attachment; filename=a.json");
      assert.deepEqual(Buffer.from(p.contentMD5), Buffer.from(md5));
      assert.equal(p.contentLength, 2, "set headers does not resize");
      assert.equal(
        p.fileLastWriteOn.getTime(),
        before.fileLastWriteOn.getTime(),
        "the SDK sends last-write-time preserve",
      );
      const d = await f.download();
      assert.equal(d.contentType, "application/json");
      assert.equal(d.contentDisposition, "attachment; filename=a.json");
      assert.equal(d.cacheControl, "no-cache");
    });

    it("resize grows with zeros and shrinks", T, async () => {
      const f = dir.getFileClient(uniq("rs"));
      await f.uploadData(Buffer.from("abcdefghij"));
      const g = await f.resize(16);
      assert.match(g.etag, /^"0x[0-9A-F]+"$/);
      let { bytes } = await downloadBytes(f);
      assert.ok(bytes.equals(Buffer.concat([Buffer.from("abcdefghij"), Buffer.alloc(6)])));
      await f.resize(4);
      ({ bytes } = await downloadBytes(f));
      assert.equal(bytes.toString(), "abcd");
      assert.equal((await f.getProperties()).contentLength, 4);
      assert.deepEqual((await f.getRangeList()).rangeList, [{ start: 0, end: 3 }]);
      await f.resize(0);
      assert.equal((await f.getProperties()).contentLength, 0);
      await expectRestError(dir.getFileClient(uniq("nf")).resize(3), 404, "ResourceNotFound");
    });

    it("set properties: SMB times, attributes", T, async () => {
      const f = dir.getFileClient(uniq("tm"));
      await f.create(1);
      const lw = new Date("2021-03-04T05:06:07.891Z");
      const cr = new Date("2020-01-02T03:04:05.678Z");
      const r = await f.setProperties({
        lastWriteTime: lw,
        creationTime: cr,
        fileAttributes: "ReadOnly|Archive",
      });
      assert.equal(r.fileLastWriteOn.getTime(), lw.getTime());
      assert.equal(r.fileCreatedOn.getTime(), cr.getTime());
      const p = await f.getProperties();
      assert.equal(p.fileLastWriteOn.getTime(), lw.getTime());
      assert.equal(p.fileCreatedOn.getTime(), cr.getTime());
      assert.deepEqual(p.fileAttributes.split(" | ").sort(), ["Archive", "ReadOnly"]);
      assert.ok(near(p.fileChangeOn), "change time moves to now");

      // an upload moves last-write-time to now unless asked to preserve it
      await f.setProperties({ fileAttributes: "Archive" });
      await f.uploadRange(Buffer.from("x"), 0, 1, { fileLastWrittenMode: "Preserve" });
      assert.equal((await f.getProperties()).fileLastWriteOn.getTime(), lw.getTime());
      await f.uploadRange(Buffer.from("y"), 0, 1);
      assert.ok(near((await f.getProperties()).fileLastWriteOn));

      // list reports the same times
      const items = [];
      for await (const e of dir.listFilesAndDirectories({ prefix: f.name, includeTimestamps: true })) items.push(e);
      assert.equal(items.length, 1);
      assert.equal(items[0].properties.creationTime.getTime(), cr.getTime());
    });

    it("create with explicit times and an empty file", T, async () => {
      const f = dir.getFileClient(uniq("ct"));
      const lw = new Date("2019-09-09T09:09:09.123Z");
      const r = await f.create(0, { lastWriteTime: lw, creationTime: lw });
      assert.equal(r.fileLastWriteOn.getTime(), lw.getTime());
      const d = await downloadBytes(f);
      assert.equal(d.bytes.length, 0);
      assert.equal(d.resp.contentLength, 0);
    });

    it("set metadata replaces it", T, async () => {
      const f = dir.getFileClient(uniq("md"));
      await f.create(1, { metadata: { a: "1" } });
      const before = await f.getProperties();
      const r = await f.setMetadata({ b: "2", c: "three" });
      assert.notEqual(r.etag, before.etag);
      const p = await f.getProperties();
      assert.deepEqual(p.metadata, { b: "2", c: "three" });
      assert.equal(p.fileLastWriteOn.getTime(), before.fileLastWriteOn.getTime());
      const d = await f.download();
      assert.deepEqual(d.metadata, { b: "2", c: "three" });
      await expectRestError(dir.getFileClient(uniq("nf")).setMetadata({ a: "b" }), 404, "ResourceNotFound");
    });

    it("delete and the codes for missing files", T, async () => {
      const f = dir.getFileClient(uniq("rm"));
      await f.create(1);
      const r = await f.delete();
      assert.equal(r._response.status, 202);
      assert.equal(await f.exists(), false);
      await expectRestError(f.getProperties(), 404, "ResourceNotFound");
      await expectRestError(f.download(), 404, "ResourceNotFound");
      await expectRestError(f.delete(), 404, "ResourceNotFound");
      await expectRestError(f.getRangeList(), 404, "ResourceNotFound");
      await expectRestError(share.getDirectoryClient(uniq("np")).getFileClient("f").delete(), 404, "ParentNotFound");
      // a file is not a directory and a directory is not a file (the code is
      // not recorded anywhere; only the refusal and that nothing changed)
      const sub = dir.getDirectoryClient(uniq("sd"));
      await sub.create();
      const e1 = await dir.getFileClient(sub.name).delete().catch((e) => e);
      assert.ok([404, 409].includes(e1.statusCode), `delete file on a directory: ${e1.statusCode}`);
      assert.ok(await sub.exists());
      const g = dir.getFileClient(uniq("g"));
      await g.create(1);
      const e2 = await dir.getDirectoryClient(g.name).delete().catch((e) => e);
      assert.ok([404, 409].includes(e2.statusCode), `delete directory on a file: ${e2.statusCode}`);
      assert.ok(await g.exists());
    });

    it("invalid file and directory names are refused", T, async () => {
      for (const ch of ['"', ":", "|", "<", ">", "*", "?"]) {
        await expectRestError(dir.getFileClient(`bad${ch}name`).create(1), 400, "InvalidResourceName");
        await expectRestError(dir.getDirectoryClient(`bad${ch}dir`).create(), 400, "InvalidResourceName");
      }
      await expectRestError(dir.getFileClient("ctl\u0001char").create(1), 400, "InvalidResourceName");
      // a name of 255 characters is fine, 256 is not
      await dir.getFileClient("n".repeat(255)).create(1);
      let err = null;
      try {
        await dir.getFileClient("n".repeat(256)).create(1);
      } catch (e) {
        err = e;
      }
      assert.ok(err && err.statusCode === 400, `256-char name: ${err?.statusCode}`);
      const code = err.details?.errorCode;
      assert.ok(
        ["InvalidResourceName", "InvalidFileOrDirectoryPathName", "OutOfRangeInput"].includes(code),
        `256-char name gave ${code}`,
      );
    });
  });
}
