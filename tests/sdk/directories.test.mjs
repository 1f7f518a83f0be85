// Directories through the SDK, with Shared Key and with an account SAS:
// create (x-ms-file-* properties, ResourceAlreadyExists, ParentNotFound),
// properties, metadata, delete (DirectoryNotEmpty), rename, and listing
// (prefix, paging with continuation, include options, merged ordering,
// case-preserving names).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AUTH_MODES, T, expectRestError, listAll, startEmulator, uniq } from "./helpers.mjs";

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const PERM_KEY = /^\d+\*\d+$/;
const FILE_ID = /^\d+$/;

for (const mode of AUTH_MODES) {
  describe(`directories (${mode.name})`, () => {
    let share;
    before(async () => {
      share = mode.service(emu).getShareClient(uniq("dirs"));
      await share.create();
    });

    it("create reports the SMB properties", T, async () => {
      const d = share.getDirectoryClient(uniq("d"));
      const r = await d.create({ metadata: { owner: "alice" } });
      assert.match(r.etag, /^"0x[0-9A-F]+"$/);
      assert.ok(r.lastModified instanceof Date);
      assert.equal(r.fileAttributes, "Directory");
      assert.match(r.filePermissionKey, PERM_KEY);
      assert.match(r.fileId, FILE_ID);
      assert.equal(r.fileParentId, "0", "a directory under the root has parent id 0");
      for (const t of [r.fileCreatedOn, r.fileLastWriteOn, r.fileChangeOn]) {
        assert.ok(t instanceof Date && !Number.isNaN(t.getTime()));
        assert.ok(Math.abs(t.getTime() - Date.now()) < 60_000, `time ${t.toISOString()} far from now`);
      }
      assert.equal(r.isServerEncrypted, true);

      const p = await d.getProperties();
      assert.deepEqual(p.metadata, { owner: "alice" });
      assert.equal(p.etag, r.etag);
      assert.equal(p.fileId, r.fileId);
      assert.equal(p.fileAttributes, "Directory");
      assert.equal(p.filePermissionKey, r.filePermissionKey);
      assert.equal(p.fileCreatedOn.getTime(), r.fileCreatedOn.getTime());

      const sub = d.getDirectoryClient("sub");
      const rs = await sub.create();
      assert.equal(rs.fileParentId, r.fileId);
    });

    it("create twice is ResourceAlreadyExists, missing parent is ParentNotFound", T, async () => {
      const name = uniq("d");
      const d = share.getDirectoryClient(name);
      await d.create();
      await expectRestError(d.create(), 409, "ResourceAlreadyExists");
      await expectRestError(share.getDirectoryClient(`${uniq("nope")}/child`).create(), 404, "ParentNotFound");
      // a file where a directory would go: a conflict (no recording shows
      // which code, ResourceAlreadyExists or ResourceTypeMismatch)
      await share.rootDirectoryClient.getFileClient(`${name}-f`).create(1);
      const clash = await share.getDirectoryClient(`${name}-f`).create().catch((e) => e);
      assert.equal(clash.statusCode, 409);
      assert.ok(["ResourceAlreadyExists", "ResourceTypeMismatch"].includes(clash.details?.errorCode));
      assert.equal((await d.createIfNotExists()).succeeded, false);
    });

    it("names are case-preserving and case-insensitive", T, async () => {
      const base = uniq("Case");
      const d = share.getDirectoryClient(`${base}Dir`);
      await d.create();
      const lower = share.getDirectoryClient(`${base}dir`.toLowerCase());
      const upper = share.getDirectoryClient(`${base}dir`.toUpperCase());
      await expectRestError(lower.create(), 409, "ResourceAlreadyExists");
      assert.equal((await upper.getProperties()).fileAttributes, "Directory");
      await d.getFileClient("Data.TXT").create(3);
      assert.equal((await lower.getFileClient("data.txt").getProperties()).contentLength, 3);
      const { dirs } = await listAll(share.rootDirectoryClient, { prefix: base });
      assert.deepEqual(
        dirs.map((x) => x.name),
        [`${base}Dir`],
        "listing keeps the case the entry was created with",
      );
      assert.deepEqual(
        (await listAll(upper)).files.map((x) => x.name),
        ["Data.TXT"],
      );
      // creating "data.txt" over "Data.TXT" replaces that one entry
      await upper.getFileClient("data.txt").create(4);
      const after = await listAll(d);
      assert.equal(after.files.length, 1);
      assert.equal(after.files[0].name.toLowerCase(), "data.txt");
      assert.equal(after.files[0].properties.contentLength, 4);
    });

    it("set directory properties: times", T, async () => {
      const d = share.getDirectoryClient(uniq("sp"));
      await d.create();
      const lw = new Date("2020-10-10T10:10:10.101Z");
      const r = await d.setProperties({ lastWriteTime: lw, creationTime: lw });
      assert.equal(r.fileLastWriteOn.getTime(), lw.getTime());
      const p = await d.getProperties();
      assert.equal(p.fileLastWriteOn.getTime(), lw.getTime());
      assert.equal(p.fileCreatedOn.getTime(), lw.getTime());
      assert.equal(p.fileAttributes, "Directory");
    });

    it("handles: none open over REST", T, async () => {
      const d = share.getDirectoryClient(uniq("h"));
      await d.create();
      await d.getFileClient("f").create(1);
      const handles = [];
      for await (const h of d.listHandles({ recursive: true })) handles.push(h);
      assert.deepEqual(handles, []);
      const closed = await d.forceCloseAllHandles({ recursive: true });
      assert.equal(closed.closedHandlesCount, 0);
      const fh = [];
      for await (const h of d.getFileClient("f").listHandles()) fh.push(h);
      assert.deepEqual(fh, []);
    });

    it("get properties of a missing directory is ResourceNotFound", T, async () => {
      await expectRestError(share.getDirectoryClient(uniq("gone")).getProperties(), 404, "ResourceNotFound");
      assert.equal(await share.getDirectoryClient(uniq("gone")).exists(), false);
    });

    it("set metadata replaces it and moves the etag", T, async () => {
      const d = share.getDirectoryClient(uniq("md"));
      const c = await d.create({ metadata: { a: "1", b: "2" } });
      const s = await d.setMetadata({ c: "3" });
      assert.match(s.etag, /^"0x[0-9A-F]+"$/);
      assert.notEqual(s.etag, c.etag);
      const p = await d.getProperties();
      assert.deepEqual(p.metadata, { c: "3" });
      assert.equal(p.etag, s.etag);
      await d.setMetadata({});
      assert.deepEqual((await d.getProperties()).metadata, {});
      await expectRestError(share.getDirectoryClient(uniq("gone")).setMetadata({ a: "1" }), 404, "ResourceNotFound");
    });

    it("delete: DirectoryNotEmpty, ResourceNotFound, ParentNotFound", T, async () => {
      const d = share.getDirectoryClient(uniq("del"));
      await d.create();
      const f = d.getFileClient("x");
      await f.create(1);
      await expectRestError(d.delete(), 409, "DirectoryNotEmpty");
      await f.delete();
      const sub = d.getDirectoryClient("sub");
      await sub.create();
      await expectRestError(d.delete(), 409, "DirectoryNotEmpty");
      await sub.delete();
      await d.delete();
      assert.equal(await d.exists(), false);
      await expectRestError(d.delete(), 404, "ResourceNotFound");
      await expectRestError(share.getDirectoryClient(`${uniq("np")}/child`).delete(), 404, "ParentNotFound");
    });

    it("rename moves the whole tree", T, async () => {
      const src = share.getDirectoryClient(uniq("rsrc"));
      await src.create({ metadata: { k: "v" } });
      await src.getDirectoryClient("inner").create();
      await src.getDirectoryClient("inner").getFileClient("f.txt").uploadData(Buffer.from("payload"));
      const before = await src.getProperties();
      const destName = uniq("rdst");
      const { directoryRenameResponse: rr } = await src.rename(destName);
      // the SDK's destinationDirectoryClient has no account segment on
      // path-style URLs (see GAPS.md), so address the result canonically
      const dst = share.getDirectoryClient(destName);
      assert.match(rr.etag, /^"0x[0-9A-F]+"$/);
      assert.equal(await src.exists(), false);
      const p = await dst.getProperties();
      assert.equal(p.fileId, before.fileId, "rename keeps the file id");
      assert.deepEqual(p.metadata, { k: "v" });
      const f = dst.getDirectoryClient("inner").getFileClient("f.txt");
      const got = await f.downloadToBuffer();
      assert.equal(got.toString(), "payload");
    });

    it("rename into a subdirectory and onto an existing name", T, async () => {
      const parent = share.getDirectoryClient(uniq("rp"));
      await parent.create();
      const a = share.getDirectoryClient(uniq("ra"));
      await a.create();
      const target = `${parent.path}/moved`;
      await a.rename(target);
      const moved = share.getDirectoryClient(target);
      assert.ok(await moved.exists());
      assert.equal(await a.exists(), false);

      const b = share.getDirectoryClient(uniq("rb"));
      await b.create();
      await expectRestError(b.rename(target), 409, "ResourceAlreadyExists");
      assert.ok(await b.exists(), "failed rename leaves the source");

      await expectRestError(share.getDirectoryClient(uniq("nosrc")).rename(uniq("x")), 404, "ResourceNotFound");
      await expectRestError(b.rename(`${uniq("noparent")}/x`), 404, "ParentNotFound");
    });

    it("list with prefix", T, async () => {
      const d = share.getDirectoryClient(uniq("lst"));
      await d.create();
      for (const n of ["apple", "apricot", "banana"]) await d.getFileClient(n).create(n.length);
      for (const n of ["apdir", "bdir"]) await d.getDirectoryClient(n).create();
      const all = await listAll(d);
      assert.deepEqual(all.files.map((f) => f.name), ["apple", "apricot", "banana"]);
      assert.deepEqual(all.dirs.map((f) => f.name), ["apdir", "bdir"]);
      assert.deepEqual(all.files.map((f) => f.properties.contentLength), [5, 7, 6]);
      for (const e of [...all.files, ...all.dirs]) assert.match(e.fileId, FILE_ID);
      const ap = await listAll(d, { prefix: "ap" });
      assert.deepEqual(ap.files.map((f) => f.name), ["apple", "apricot"]);
      assert.deepEqual(ap.dirs.map((f) => f.name), ["apdir"]);
      const none = await listAll(d, { prefix: "zzz" });
      assert.equal(none.files.length + none.dirs.length, 0);
      await expectRestError(
        (async () => listAll(share.getDirectoryClient(uniq("nolist"))))(),
        404,
        "ResourceNotFound",
      );
    });

    it("list pages with maxPageSize and continuation tokens", T, async () => {
      const d = share.getDirectoryClient(uniq("page"));
      await d.create();
      const names = ["f0", "f1", "f2", "f3", "f4", "f5", "f6"];
      for (const n of names) await d.getFileClient(n).create(0);
      const pages = [];
      let last;
      for await (const page of d.listFilesAndDirectories().byPage({ maxPageSize: 3 })) {
        pages.push(page.segment.fileItems.map((f) => f.name));
        assert.equal(page.maxResults, 3);
        last = page;
      }
      assert.deepEqual(pages, [["f0", "f1", "f2"], ["f3", "f4", "f5"], ["f6"]]);
      assert.ok(!last.continuationToken);

      const it1 = d.listFilesAndDirectories({ prefix: "f" }).byPage({ maxPageSize: 4 });
      const p1 = (await it1.next()).value;
      assert.ok(p1.continuationToken);
      assert.equal(p1.prefix, "f");
      const p2 = (
        await d
          .listFilesAndDirectories({ prefix: "f" })
          .byPage({ maxPageSize: 4, continuationToken: p1.continuationToken })
          .next()
      ).value;
      assert.equal(p2.marker, p1.continuationToken);
      assert.deepEqual(p2.segment.fileItems.map((f) => f.name), ["f4", "f5", "f6"]);
    });

    it("files and directories share one case-insensitive order", T, async () => {
      const d = share.getDirectoryClient(uniq("ord"));
      await d.create();
      // created out of order, mixed kinds and cases
      await d.getFileClient("delta").create(0);
      await d.getDirectoryClient("Bravo").create();
      await d.getFileClient("Charlie").create(0);
      await d.getDirectoryClient("alpha").create();
      await d.getDirectoryClient("echo").create();
      const order = [];
      for await (const page of d.listFilesAndDirectories().byPage({ maxPageSize: 1 })) {
        const items = [
          ...page.segment.directoryItems.map((x) => `d:${x.name}`),
          ...page.segment.fileItems.map((x) => `f:${x.name}`),
        ];
        assert.equal(items.length <= 1, true, `page of 1 returned ${items}`);
        order.push(...items);
      }
      assert.deepEqual(order, ["d:alpha", "d:Bravo", "f:Charlie", "f:delta", "d:echo"]);
    });

    it("list include timestamps, etag, attributes, permission key, extended info", T, async () => {
      const d = share.getDirectoryClient(uniq("inc"));
      await d.create();
      const fr = await d.getFileClient("file1").create(1024);
      const dr = await d.getDirectoryClient("dir1").create();
      const fp = await d.getFileClient("file1").getProperties();
      const plain = await listAll(d);
      assert.equal(plain.files[0].properties.contentLength, 1024);
      assert.equal(plain.files[0].properties.etag, undefined);
      assert.equal(plain.files[0].attributes, undefined);
      assert.equal(plain.files[0].permissionKey, undefined);

      const full = await listAll(d, {
        includeTimestamps: true,
        includeEtag: true,
        includeAttributes: true,
        includePermissionKey: true,
        includeExtendedInfo: true,
      });
      const [f] = full.files;
      const [x] = full.dirs;
      assert.equal(f.name, "file1");
      assert.equal(f.fileId, fr.fileId);
      assert.equal(f.properties.contentLength, 1024);
      assert.equal(f.properties.etag, fp.etag);
      assert.equal(f.properties.lastModified.getTime(), fp.lastModified.getTime());
      assert.equal(f.properties.creationTime.getTime(), fp.fileCreatedOn.getTime());
      assert.equal(f.properties.lastWriteTime.getTime(), fp.fileLastWriteOn.getTime());
      assert.equal(f.properties.changeTime.getTime(), fp.fileChangeOn.getTime());
      assert.ok(f.properties.lastAccessTime instanceof Date);
      assert.equal(f.attributes, "Archive");
      assert.equal(f.permissionKey, fr.filePermissionKey);
      assert.equal(x.name, "dir1");
      assert.equal(x.fileId, dr.fileId);
      assert.equal(x.attributes, "Directory");
      assert.equal(x.permissionKey, dr.filePermissionKey);
      assert.equal(x.properties.etag, dr.etag);
      assert.equal(x.properties.creationTime.getTime(), dr.fileCreatedOn.getTime());

      const page = (await d.listFilesAndDirectories({ includeExtendedInfo: true }).byPage().next()).value;
      assert.equal(page.directoryId, (await d.getProperties()).fileId);
      assert.equal(page.directoryPath, d.path);
      assert.equal(page.shareName, share.name);
    });

    it("listing the share root", T, async () => {
      const s = mode.service(emu).getShareClient(uniq("root"));
      await s.create();
      await s.getDirectoryClient("top").create();
      await s.rootDirectoryClient.getFileClient("readme").create(2);
      const page = (await s.rootDirectoryClient.listFilesAndDirectories().byPage().next()).value;
      assert.equal(page.directoryPath, "");
      assert.equal(page.directoryId, "0");
      assert.deepEqual(page.segment.directoryItems.map((x) => x.name), ["top"]);
      assert.deepEqual(page.segment.fileItems.map((x) => x.name), ["readme"]);
    });
  });
}
