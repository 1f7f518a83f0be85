"""The generated systemd units pass `systemd-analyze verify`, and the
cloud-init user data passes cloud-init's own schema check; the ARM template
is valid JSON that keeps the key out of every VM setting."""
import base64
import json
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import KEY, base_conf

UNITS = ("azsharefs-mount.service", "azsharefs-sync-users.service",
         "azsharefs-sync-users.timer")


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed" % tool, pytrace=False)


def verify(paths):
    return subprocess.run(["systemd-analyze", "verify"] + list(paths),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60)


def test_units_pass_systemd_analyze_verify(nodes, shared_dir):
    need("systemd-analyze")
    # azsharefs = /bin/true: a stub ExecStart binary that exists.
    n = nodes.new("n1", base_conf(options="writeback_delay=5"))
    n.run("node", "--mountpoint", shared_dir, "--no-mount")
    unit_dir = n.path("/etc/systemd/system")
    paths = [os.path.join(unit_dir, u) for u in UNITS]
    p = verify(paths)
    assert p.returncode == 0 and p.stderr == "" and p.stdout == "", p.stderr
    text = open(paths[0]).read()
    assert "ExecStart=/bin/true /mnt/azsharefs -f -o share=pool," in text
    assert "Restart=on-failure" in text and "After=network-online.target" in text
    for path in paths:
        assert KEY[:20] not in open(path).read()

    # The check can fail: a broken copy is reported.
    bad = os.path.join(n.root, "broken", UNITS[0])
    os.makedirs(os.path.dirname(bad))
    with open(bad, "w") as f:
        f.write(text.replace("Restart=on-failure", "Restart=sometimes")
                .replace("ExecStart=/bin/true", "ExecStart=/nonexistent/azsharefs"))
    p = verify([bad])
    assert p.returncode != 0 or p.stderr != ""


def cloud_init_text(n, *extra):
    return n.run("cloud-init", "--key-vault", "poolvault", *extra).stdout


def schema_check(tmp_path, text, name="user-data.yaml"):
    f = tmp_path / name
    f.write_text(text)
    return subprocess.run(["cloud-init", "schema", "--config-file", str(f)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)


def test_cloud_init_passes_schema_and_holds_no_secret(nodes, tmp_path):
    need("cloud-init")
    n = nodes.new("n1", base_conf(options="writeback_delay=5"))
    text = cloud_init_text(n)
    assert text.startswith("#cloud-config\n")
    p = schema_check(tmp_path, text)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Valid cloud-config" in p.stdout
    assert KEY[:20] not in text and "AccountKey" not in text

    doc = yaml.safe_load(text)
    assert "azsharefs" in doc["packages"]
    files = {f["path"]: f for f in doc["write_files"]}
    conf = files["/etc/azsharefs/pool.conf"]
    script = files["/var/lib/cloud/scripts/per-boot/azsharefs-node"]
    assert script["permissions"] == "0700"
    # The pool config it writes is one the provisioner accepts.
    cf = tmp_path / "pool.conf"
    cf.write_text(conf["content"])
    again = n.run("cloud-init", "--key-vault", "poolvault", "--config", str(cf)).stdout
    assert again == text
    # The boot script is valid sh, fetches with the managed identity and
    # hands the token to curl on stdin, never as an argument.
    sf = tmp_path / "boot.sh"
    sf.write_text(script["content"])
    assert subprocess.run(["sh", "-n", str(sf)], timeout=10).returncode == 0
    body = script["content"]
    assert "169.254.169.254/metadata/identity/oauth2/token" in body
    assert "curl -sf --max-time 20 -K -" in body
    assert "exec azsharefs-provision node" in body

    # The checker can fail: a broken document is refused.
    p = schema_check(tmp_path, text.replace("packages:\n", "packages: 5\nx_packages:\n"),
                     "broken.yaml")
    assert p.returncode != 0


def test_cloud_init_options_are_checked(nodes):
    n = nodes.new("n1", base_conf())
    p = n.run("cloud-init", check=False)
    assert p.returncode == 1 and "--key-vault ''" in p.stderr
    p = n.run("cloud-init", "--key-vault", "bad;vault", check=False)
    assert p.returncode == 1 and "--key-vault 'bad;vault'" in p.stderr
    p = n.run("cloud-init", "--key-vault", "v123", "--key-secret", "a'b", check=False)
    assert p.returncode == 1 and "--key-secret" in p.stderr


def test_arm_template_keeps_key_in_key_vault(nodes, tmp_path):
    need("cloud-init")
    n = nodes.new("n1", base_conf())
    text = cloud_init_text(n, "--template", "--key-secret", "pool-key")
    t = json.loads(text)
    assert KEY[:20] not in text and "AccountKey" not in text
    assert "commandToExecute" not in text and "protectedSettings" not in text
    res = {r["type"]: r for r in t["resources"]}
    secret = res["Microsoft.KeyVault/vaults/secrets"]
    assert secret["properties"]["value"].startswith("[listKeys(")
    vmss = res["Microsoft.Compute/virtualMachineScaleSets"]
    assert vmss["identity"] == {"type": "SystemAssigned"}
    vm_text = json.dumps(vmss)
    assert "listKeys" not in vm_text and "extensionProfile" not in vm_text
    assert vmss["properties"]["virtualMachineProfile"]["osProfile"]["customData"] == \
        "[base64(variables('cloudInit'))]"
    role = res["Microsoft.Authorization/roleAssignments"]
    assert "4633458b-17de-408a-b874-0445c86b69e6" in t["variables"]["secretsUserRole"]
    assert role["properties"]["roleDefinitionId"] == "[variables('secretsUserRole')]"
    assert t["parameters"]["instanceCount"]["minValue"] == 0
    assert t["parameters"]["keyVaultSecretName"]["defaultValue"] == "pool-key"

    # What the VMs get once ARM substitutes the parameters is valid cloud-config.
    ci = t["variables"]["cloudInitTemplate"]
    for ph, val in (("@@STORAGE_ACCOUNT@@", "myacct"), ("@@SHARE@@", "team"),
                    ("@@KEY_VAULT@@", "teamvault"), ("@@SECRET@@", "pool-key")):
        assert ph in t["variables"]["cloudInit"]
        ci = ci.replace(ph, val)
    assert "@@" not in ci
    p = schema_check(tmp_path, ci, "from-template.yaml")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "account = myacct\n" in ci and "vault='teamvault'" in ci
    assert len(base64.b64encode(ci.encode())) < 65536  # customData limit
