// File leases through the SDK's ShareLeaseClient, with Shared Key and with
// an account SAS: acquire, change, release, break, the lease properties, and
// every write refused without (LeaseIdMissing) or with the wrong lease id.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { AUTH_MODES, T, downloadBytes, expectRestError, startEmulator, uniq } from "./helpers.mjs";

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

for (const mode of AUTH_MODES) {
  describe(`leases (${mode.name})`, () => {
    let dir;
    before(async () => {
      const share = mode.service(emu).getShareClient(uniq("lease"));
      await share.create();
      dir = share.getDirectoryClient("d");
      await dir.create();
    });

    async function newFile(content = "Hello World") {
      const f = dir.getFileClient(uniq("f"));
      await f.uploadData(Buffer.from(content));
      return f;
    }

    it("acquire with a proposed id, then the file shows leased", T, async () => {
      const f = await newFile();
      const id = randomUUID();
      const lc = f.getShareLeaseClient(id);
      const r = await lc.acquireLease(-1);
      assert.equal(r.leaseId, id);
      assert.equal(r._response.status, 201);
      assert.match(r.etag, /^"0x[0-9A-F]+"$/);
      const p = await f.getProperties();
      assert.equal(p.leaseState, "leased");
      assert.equal(p.leaseStatus, "locked");
      assert.equal(p.leaseDuration, "infinite");
      const d = await f.download();
      assert.equal(d.leaseState, "leased");
      assert.equal(d.leaseStatus, "locked");
      assert.equal(d.leaseDuration, "infinite");
    });

    it("acquire without a proposed id gets a server GUID", T, async () => {
      const f = await newFile();
      const lc = f.getShareLeaseClient();
      const r = await lc.acquireLease();
      assert.match(r.leaseId, GUID);
      assert.equal(lc.leaseId, r.leaseId);
      await lc.releaseLease();
    });

    it("acquire conflicts and bad durations", T, async () => {
      const f = await newFile();
      await f.getShareLeaseClient(randomUUID()).acquireLease();
      await expectRestError(f.getShareLeaseClient(randomUUID()).acquireLease(), 409, "LeaseAlreadyPresent");
      const g = await newFile();
      await expectRestError(g.getShareLeaseClient(randomUUID()).acquireLease(20), 400, "InvalidHeaderValue");
      assert.equal((await g.getProperties()).leaseState, "available");
      await expectRestError(dir.getFileClient(uniq("none")).getShareLeaseClient().acquireLease(), 404, "ResourceNotFound");
    });

    it("writes without the lease id are LeaseIdMissing, with a wrong id LeaseIdMismatchWithFileOperation", T, async () => {
      const f = await newFile();
      const id = randomUUID();
      await f.getShareLeaseClient(id).acquireLease();
      const wrong = { leaseAccessConditions: { leaseId: randomUUID() } };
      const right = { leaseAccessConditions: { leaseId: id } };
      const writes = [
        ["uploadRange", (o) => f.uploadRange(Buffer.from("J"), 0, 1, o)],
        ["clearRange", (o) => f.clearRange(0, 1, o)],
        ["setMetadata", (o) => f.setMetadata({ a: "b" }, o)],
        ["setHttpHeaders", (o) => f.setHttpHeaders({ fileContentType: "text/plain" }, o)],
        ["resize", (o) => f.resize(11, o)],
        ["setProperties", (o) => f.setProperties(o)],
        ["create", (o) => f.create(11, o)],
      ];
      for (const [name, op] of writes) {
        await expectRestError(op(undefined), 412, "LeaseIdMissing").catch((e) => {
          throw new Error(`${name}: ${e.message}`);
        });
        await expectRestError(op(wrong), 412, "LeaseIdMismatchWithFileOperation").catch((e) => {
          throw new Error(`${name}: ${e.message}`);
        });
      }
      await expectRestError(f.delete(), 412, "LeaseIdMissing");
      await expectRestError(f.delete(wrong), 412, "LeaseIdMismatchWithFileOperation");
      // nothing refused changed the file
      assert.equal((await downloadBytes(f)).bytes.toString(), "Hello World");
      assert.deepEqual((await f.getProperties()).metadata, {});
      // with the right id every write works (create is checked on its own below)
      for (const [, op] of writes.filter(([n]) => n !== "create")) await op(right);
      await f.uploadRange(Buffer.from("J"), 0, 1, right);
      assert.equal((await downloadBytes(f)).bytes.toString(), "Jello World");
      // reads need no lease id, but a wrong one is refused
      await f.getProperties();
      await expectRestError(f.getProperties(wrong), 412, "LeaseIdMismatchWithFileOperation");
      await expectRestError(f.download(0, undefined, wrong), 412, "LeaseIdMismatchWithFileOperation");
      await expectRestError(f.getRangeList(wrong), 412, "LeaseIdMismatchWithFileOperation");
      await f.download(0, undefined, right);
      await f.delete(right);
      assert.equal(await f.exists(), false);
    });

    it("create over a leased file needs the lease id", T, async () => {
      const f = await newFile();
      const id = randomUUID();
      await f.getShareLeaseClient(id).acquireLease();
      await expectRestError(f.create(5), 412, "LeaseIdMissing");
      await f.create(5, { leaseAccessConditions: { leaseId: id } });
      assert.equal((await f.getProperties()).contentLength, 5);
    });

    it("change moves the lease to the new id", T, async () => {
      const f = await newFile();
      const first = randomUUID();
      const second = randomUUID();
      const lc = f.getShareLeaseClient(first);
      await lc.acquireLease();
      const r = await lc.changeLease(second);
      assert.equal(r.leaseId, second);
      assert.equal(lc.leaseId, second);
      await expectRestError(
        f.setMetadata({ a: "1" }, { leaseAccessConditions: { leaseId: first } }),
        412,
        "LeaseIdMismatchWithFileOperation",
      );
      await f.setMetadata({ a: "1" }, { leaseAccessConditions: { leaseId: second } });
      await expectRestError(
        f.getShareLeaseClient(first).changeLease(randomUUID()),
        409,
        "LeaseIdMismatchWithLeaseOperation",
      );
      await lc.releaseLease();
    });

    it("change or release without a lease is LeaseNotPresentWithLeaseOperation", T, async () => {
      const f = await newFile();
      await expectRestError(
        f.getShareLeaseClient(randomUUID()).changeLease(randomUUID()),
        409,
        "LeaseNotPresentWithLeaseOperation",
      );
      await expectRestError(f.getShareLeaseClient(randomUUID()).releaseLease(), 409, "LeaseNotPresentWithLeaseOperation");
      await expectRestError(f.getShareLeaseClient().breakLease(), 409, "LeaseNotPresentWithLeaseOperation");
    });

    it("release frees the file", T, async () => {
      const f = await newFile();
      const lc = f.getShareLeaseClient(randomUUID());
      await lc.acquireLease();
      await expectRestError(
        f.getShareLeaseClient(randomUUID()).releaseLease(),
        409,
        "LeaseIdMismatchWithLeaseOperation",
      );
      const r = await lc.releaseLease();
      assert.equal(r._response.status, 200);
      const p = await f.getProperties();
      assert.equal(p.leaseState, "available");
      assert.equal(p.leaseStatus, "unlocked");
      assert.equal(p.leaseDuration, undefined);
      await f.setMetadata({ free: "yes" });
      // another client can take it at once
      await f.getShareLeaseClient(randomUUID()).acquireLease();
    });

    it("break ends the lease at once", T, async () => {
      const f = await newFile();
      const id = randomUUID();
      const lc = f.getShareLeaseClient(id);
      await lc.acquireLease();
      const b = await f.getShareLeaseClient().breakLease();
      assert.equal(b._response.status, 202);
      let p = await f.getProperties();
      assert.equal(p.leaseState, "broken");
      assert.equal(p.leaseStatus, "unlocked");
      await f.setMetadata({ after: "break" });
      await f.getShareLeaseClient().breakLease(); // breaking a broken lease is fine
      await lc.releaseLease(); // so is releasing it with its id
      p = await f.getProperties();
      assert.equal(p.leaseState, "available");
      // a broken lease can be acquired again
      await lc.acquireLease();
      await lc.breakLease();
      const again = f.getShareLeaseClient(randomUUID());
      await again.acquireLease();
      assert.equal((await f.getProperties()).leaseState, "leased");
    });

    it("rename of a leased source needs its lease id", T, async () => {
      const f = await newFile("src");
      const id = randomUUID();
      await f.getShareLeaseClient(id).acquireLease();
      const dest = `d/${uniq("dst")}`;
      await expectRestError(f.rename(dest), 412, "LeaseIdMissing");
      assert.ok(await f.exists());
      await f.rename(dest, { sourceLeaseAccessConditions: { leaseId: id } });
      assert.equal(await f.exists(), false);
      const moved = dir.getFileClient(dest.slice(2));
      assert.equal((await downloadBytes(moved)).bytes.toString(), "src");
    });

    it("rename onto a leased destination needs the destination lease id", T, async () => {
      const src = await newFile("new");
      const dst = await newFile("old");
      const id = randomUUID();
      await dst.getShareLeaseClient(id).acquireLease();
      const target = `d/${dst.name}`;
      await expectRestError(src.rename(target, { replaceIfExists: true }), 412, "LeaseIdMissing");
      await expectRestError(
        src.rename(target, { replaceIfExists: true, destinationLeaseAccessConditions: { leaseId: randomUUID() } }),
        412,
        "LeaseIdMismatchWithFileOperation",
      );
      assert.equal((await downloadBytes(dst)).bytes.toString(), "old");
      await src.rename(target, { replaceIfExists: true, destinationLeaseAccessConditions: { leaseId: id } });
      assert.equal((await downloadBytes(dst)).bytes.toString(), "new");
      assert.equal(await src.exists(), false);
    });
  });
}
