// Rename File through the SDK, with Shared Key and with an account SAS. The
// SDK sends the request to the destination URL built without the account
// segment on path-style URLs (http://127.0.0.1:PORT/share/dest?comp=rename)
// and names the source in x-ms-file-rename-source. The destination clients
// the SDK returns carry that account-less URL, so results are checked
// through clients addressed canonically (see GAPS.md).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AUTH_MODES, T, downloadBytes, expectRestError, startEmulator, uniq } from "./helpers.mjs";

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

for (const mode of AUTH_MODES) {
  describe(`rename (${mode.name})`, () => {
    let share;
    before(async () => {
      share = mode.service(emu).getShareClient(uniq("ren"));
      await share.create();
      await share.getDirectoryClient("a").create();
      await share.getDirectoryClient("b").create();
    });

    const at = (path) => share.rootDirectoryClient.getFileClient(path);

    async function newFile(path, content) {
      const f = at(path);
      await f.uploadData(Buffer.from(content));
      return f;
    }

    it("rename within a directory keeps id, bytes and times", T, async () => {
      const f = await newFile(`a/${uniq("src")}`, "contents");
      await f.setMetadata({ m: "1" });
      const before = await f.getProperties();
      const dest = `a/${uniq("dst")}`;
      const { fileRenameResponse: r } = await f.rename(dest);
      assert.equal(r._response.status, 200);
      assert.match(r.etag, /^"0x[0-9A-F]+"$/);
      assert.equal(r.fileId, before.fileId);
      const g = at(dest);
      assert.equal(await f.exists(), false);
      const p = await g.getProperties();
      assert.equal(p.fileId, before.fileId);
      assert.equal(p.contentLength, 8);
      assert.deepEqual(p.metadata, { m: "1" });
      assert.equal(p.fileCreatedOn.getTime(), before.fileCreatedOn.getTime());
      assert.equal(p.fileLastWriteOn.getTime(), before.fileLastWriteOn.getTime());
      assert.equal((await downloadBytes(g)).bytes.toString(), "contents");
    });

    it("rename into another directory and to the share root", T, async () => {
      const f = await newFile(`a/${uniq("mv")}`, "x1");
      const dest = `b/${uniq("moved")}`;
      await f.rename(dest);
      const g = at(dest);
      assert.equal((await g.getProperties()).fileParentId, (await share.getDirectoryClient("b").getProperties()).fileId);
      const names = [];
      for await (const e of share.getDirectoryClient("b").listFilesAndDirectories()) names.push(e.name);
      assert.ok(names.includes(dest.slice(2)));
      const top = uniq("top");
      await g.rename(top);
      const h = at(top);
      assert.equal((await h.getProperties()).fileParentId, "0");
      assert.equal((await downloadBytes(h)).bytes.toString(), "x1");
    });

    it("rename onto an existing file needs replaceIfExists", T, async () => {
      const src = await newFile(`a/${uniq("s")}`, "new data");
      const dst = await newFile(`a/${uniq("d")}`, "old");
      await expectRestError(src.rename(dst.path), 409, "ResourceAlreadyExists");
      await expectRestError(src.rename(dst.path, { replaceIfExists: false }), 409, "ResourceAlreadyExists");
      assert.equal((await downloadBytes(dst)).bytes.toString(), "old");
      assert.ok(await src.exists());
      await src.rename(dst.path, { replaceIfExists: true });
      assert.equal((await downloadBytes(dst)).bytes.toString(), "new data");
      assert.equal(await src.exists(), false);
    });

    it("replacing a read-only file needs ignoreReadOnly", T, async () => {
      const src = await newFile(`a/${uniq("s")}`, "fresh");
      const dst = await newFile(`a/${uniq("ro")}`, "locked");
      await dst.setProperties({ fileAttributes: "ReadOnly" });
      await expectRestError(src.rename(dst.path, { replaceIfExists: true }), 409, "ReadOnlyAttribute");
      assert.equal((await downloadBytes(dst)).bytes.toString(), "locked");
      await src.rename(dst.path, { replaceIfExists: true, ignoreReadOnly: true });
      assert.equal((await downloadBytes(dst)).bytes.toString(), "fresh");
    });

    it("rename errors: missing source, missing destination parent", T, async () => {
      const ghost = share.rootDirectoryClient.getFileClient(`a/${uniq("ghost")}`);
      await expectRestError(ghost.rename(`a/${uniq("x")}`), 404, "ResourceNotFound");
      const f = await newFile(`a/${uniq("s")}`, "q");
      await expectRestError(f.rename(`${uniq("nodir")}/x`), 404, "ParentNotFound");
      assert.ok(await f.exists());
      await expectRestError(f.rename(`a/bad:name`), 400, "InvalidResourceName");
    });

    it("rename sets metadata and content type when asked", T, async () => {
      const f = await newFile(`a/${uniq("s")}`, "meta");
      await f.setMetadata({ old: "1" });
      const dest = `a/${uniq("d")}`;
      await f.rename(dest, {
        metadata: { fresh: "2" },
        contentType: "text/markdown",
      });
      const p = await at(dest).getProperties();
      assert.deepEqual(p.metadata, { fresh: "2" });
      assert.equal(p.contentType, "text/markdown");
    });
  });
}
