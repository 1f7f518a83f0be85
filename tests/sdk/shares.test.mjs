// Shares and permissions through the SDK, once with Shared Key and once with
// an account SAS: create (quota), properties, statistics, delete, list
// (prefix, metadata, paging with continuation tokens), Create/Get Permission.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AUTH_MODES,
  T,
  expectRestError,
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

const SDDL_A =
  "O:S-1-5-88-1-1000G:S-1-5-88-2-1000D:P(A;;FA;;;S-1-5-88-1-1000)(A;;FR;;;S-1-5-88-3-33188)";
const SDDL_B =
  "O:S-1-5-88-1-1001G:S-1-5-88-2-1001D:P(A;;FA;;;S-1-5-88-1-1001)(A;;FR;;;S-1-5-88-3-33152)";

for (const mode of AUTH_MODES) {
  describe(`shares (${mode.name})`, () => {
    let svc;
    before(() => {
      svc = mode.service(emu);
    });

    it("create with quota, then get properties", T, async () => {
      const share = svc.getShareClient(uniq("q"));
      const created = await share.create({ quota: 7, metadata: { team: "ds" } });
      assert.match(created.etag, /^"0x[0-9A-F]+"$/);
      assert.ok(created.lastModified instanceof Date);
      assert.ok(created.requestId);
      const props = await share.getProperties();
      assert.equal(props.quota, 7);
      assert.equal(props.etag, created.etag);
      assert.deepEqual(props.metadata, { team: "ds" });
      assert.equal(props.leaseState, "available");
      assert.equal(props.leaseStatus, "unlocked");
      assert.equal(props.version, created.version);
    });

    it("create an existing share is ShareAlreadyExists", T, async () => {
      const share = svc.getShareClient(uniq("dup"));
      await share.create();
      await expectRestError(share.create(), 409, "ShareAlreadyExists");
      assert.equal(await share.createIfNotExists().then((r) => r.succeeded), false);
    });

    it("statistics count the bytes stored", T, async () => {
      const share = svc.getShareClient(uniq("st"));
      await share.create();
      const empty = await share.getStatistics();
      assert.equal(empty.shareUsageBytes, 0);
      const f = share.rootDirectoryClient.getFileClient("a.bin");
      await f.uploadData(Buffer.alloc(3000, 1));
      const used = await share.getStatistics();
      assert.ok(Number.isInteger(used.shareUsageBytes));
      assert.ok(used.shareUsageBytes >= 3000, `usage ${used.shareUsageBytes} < 3000`);
    });

    it("delete, then the share is gone", T, async () => {
      const share = svc.getShareClient(uniq("del"));
      await share.create();
      await share.delete();
      assert.equal(await share.exists(), false);
      await expectRestError(share.getProperties(), 404, "ShareNotFound");
      await expectRestError(share.delete(), 404, "ShareNotFound");
      await expectRestError(share.getStatistics(), 404, "ShareNotFound");
      await expectRestError(share.createDirectory("d"), 404, "ShareNotFound");
    });

    it("set share metadata and quota", T, async () => {
      const share = svc.getShareClient(uniq("sq"));
      const c = await share.create({ quota: 5 });
      const m = await share.setMetadata({ purpose: "notebooks" });
      assert.notEqual(m.etag, c.etag);
      await share.setQuota(42);
      const p = await share.getProperties();
      assert.equal(p.quota, 42);
      assert.deepEqual(p.metadata, { purpose: "notebooks" });
      await expectRestError(svc.getShareClient(uniq("none")).setMetadata({ a: "b" }), 404, "ShareNotFound");
    });

    it("list shares with prefix, metadata and quota", T, async () => {
      const p = uniq("lp");
      const names = [`${p}-b`, `${p}-a`, `${p}-c`];
      for (const [i, n] of names.entries()) {
        await svc.getShareClient(n).create({ quota: 10 + i, metadata: { idx: String(i) } });
      }
      await svc.getShareClient(uniq("other")).create();
      const seen = [];
      for await (const s of svc.listShares({ prefix: p, includeMetadata: true })) seen.push(s);
      assert.deepEqual(
        seen.map((s) => s.name),
        [`${p}-a`, `${p}-b`, `${p}-c`],
      );
      const b = seen.find((s) => s.name === `${p}-b`);
      assert.equal(b.properties.quota, 10);
      assert.deepEqual(b.metadata, { idx: "0" });
      assert.match(b.properties.etag, /^"0x[0-9A-F]+"$/);
      assert.ok(b.properties.lastModified instanceof Date);
    });

    it("list shares pages with maxPageSize and continuation", T, async () => {
      const p = uniq("pg");
      const names = [0, 1, 2, 3, 4].map((i) => `${p}-${i}`);
      for (const n of names) await svc.getShareClient(n).create();
      const pages = [];
      let token;
      for await (const page of svc.listShares({ prefix: p }).byPage({ maxPageSize: 2 })) {
        pages.push((page.shareItems ?? []).map((s) => s.name));
        token = page.continuationToken;
        assert.equal(page.maxResults, 2);
        assert.equal(page.prefix, p);
      }
      assert.deepEqual(pages, [names.slice(0, 2), names.slice(2, 4), names.slice(4)]);
      assert.ok(!token, "last page must have an empty NextMarker");

      // resume from a saved continuation token
      const first = await svc.listShares({ prefix: p }).byPage({ maxPageSize: 3 }).next();
      const marker = first.value.continuationToken;
      assert.ok(marker, "first page of 3 out of 5 must carry a NextMarker");
      const rest = await svc
        .listShares({ prefix: p })
        .byPage({ maxPageSize: 3, continuationToken: marker })
        .next();
      assert.deepEqual(
        rest.value.shareItems.map((s) => s.name),
        names.slice(3),
      );
      assert.equal(rest.value.marker, marker);
    });

    it("invalid share names are InvalidResourceName, bad lengths OutOfRangeInput", T, async () => {
      for (const bad of ["Upper-case", "double--dash", "-lead", "trail-", "under_score"]) {
        await expectRestError(svc.getShareClient(bad).create(), 400, "InvalidResourceName");
      }
      for (const bad of ["ab", "x".repeat(64)]) {
        await expectRestError(svc.getShareClient(bad).create(), 400, "OutOfRangeInput");
      }
      // the limits themselves are fine (both modes share one emulator)
      for (const ok of ["a-c", `z${"9".repeat(62)}`]) {
        await svc.getShareClient(ok).createIfNotExists();
        assert.ok(await svc.getShareClient(ok).exists());
      }
    });

    it("create and get permission", T, async () => {
      const share = svc.getShareClient(uniq("perm"));
      await share.create();
      const a1 = await share.createPermission(SDDL_A);
      const a2 = await share.createPermission(SDDL_A);
      const b = await share.createPermission(SDDL_B);
      assert.match(a1.filePermissionKey, /^\d+\*\d+$/);
      assert.equal(a1.filePermissionKey, a2.filePermissionKey, "same SDDL, same key");
      assert.notEqual(a1.filePermissionKey, b.filePermissionKey);
      const got = await share.getPermission(a1.filePermissionKey);
      assert.equal(got.permission, SDDL_A);
      const gotB = await share.getPermission(b.filePermissionKey);
      assert.equal(gotB.permission, SDDL_B);
    });

    it("a permission key is usable on files and directories", T, async () => {
      const share = svc.getShareClient(uniq("pk"));
      await share.create();
      const { filePermissionKey } = await share.createPermission(SDDL_A);
      const d = share.getDirectoryClient("d");
      const dc = await d.create({ filePermissionKey });
      assert.equal(dc.filePermissionKey, filePermissionKey);
      const f = d.getFileClient("f");
      await f.create(5, { filePermissionKey });
      assert.equal((await f.getProperties()).filePermissionKey, filePermissionKey);
      assert.equal((await d.getProperties()).filePermissionKey, filePermissionKey);
      // inline SDDL on create is stored under the same key
      const g = d.getFileClient("g");
      const gc = await g.create(0, { filePermission: SDDL_A });
      assert.equal(gc.filePermissionKey, filePermissionKey);
    });

    it("garbage SDDL is refused", T, async () => {
      const share = svc.getShareClient(uniq("badp"));
      await share.create();
      const err = await expectRestError(share.createPermission("not an sddl"), 400, "FileInvalidPermission");
      assert.ok(err);
    });

    it("an unknown permission key is refused", T, async () => {
      const share = svc.getShareClient(uniq("nokey"));
      await share.create();
      await expectRestError(
        share.getPermission("1234567890123456789*9876543210987654321"),
        400,
        "FileInvalidPermissionKey",
      );
      await expectRestError(
        share.rootDirectoryClient.getFileClient("f").create(1, {
          filePermissionKey: "1234567890123456789*9876543210987654321",
        }),
        400,
        "FileInvalidPermissionKey",
      );
    });
  });
}
