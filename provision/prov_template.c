/* prov_template.c: an ARM template for a scale set of azsharefs nodes.
 *
 * Modelled on Azure's quickstart for an Ubuntu scale set with Azure Files
 * (virtual network, public IP, load balancer with an SSH NAT pool, scale
 * set), which hands the storage key to a CustomScript extension as an
 * argument of commandToExecute: protectedSettings hides it in the VM model,
 * but on every VM the key is then on a process command line (ps, /proc)
 * and ends up in the mount options. Fixed here: the template puts the key
 * into Key Vault (listKeys -> a vault secret, inside Azure Resource
 * Manager), the scale set gets a system-assigned identity with the "Key
 * Vault Secrets User" role on that vault, and customData is the
 * cloud-config of prov_cloudinit.c, which holds no secret. There is no
 * CustomScript extension at all.
 *
 * Owns no state. Single-threaded.
 */
#include "prov_cloudinit.h"

#include <stdio.h>
#include <string.h>

#define P_ACCOUNT "@@STORAGE_ACCOUNT@@"
#define P_SHARE "@@SHARE@@"
#define P_VAULT "@@KEY_VAULT@@"
#define P_SECRET "@@SECRET@@"

/* Built-in role "Key Vault Secrets User". */
#define SECRETS_USER_ROLE "4633458b-17de-408a-b874-0445c86b69e6"

static int params(const struct prov_ci_params *p, struct prov_buf *out)
{
	return prov_buf_addf(
	    out,
	    "  \"parameters\": {\n"
	    "    \"vmssName\": {\"type\": \"string\", \"maxLength\": 9, \"metadata\": "
	    "{\"description\": \"Base name of the scale set and its resources.\"}},\n"
	    "    \"location\": {\"type\": \"string\", \"defaultValue\": "
	    "\"[resourceGroup().location]\"},\n"
	    "    \"vmSku\": {\"type\": \"string\", \"defaultValue\": \"Standard_D4s_v5\"},\n"
	    "    \"instanceCount\": {\"type\": \"int\", \"defaultValue\": 2, \"minValue\": 0, "
	    "\"maxValue\": 100, \"metadata\": {\"description\": \"Nodes to start with; "
	    "autoscale may go down to zero.\"}},\n"
	    "    \"adminUsername\": {\"type\": \"string\"},\n"
	    "    \"adminSshPublicKey\": {\"type\": \"string\"},\n"
	    "    \"storageAccountName\": {\"type\": \"string\", \"defaultValue\": \"%s\"},\n"
	    "    \"shareName\": {\"type\": \"string\", \"defaultValue\": \"%s\"},\n"
	    "    \"keyVaultName\": {\"type\": \"string\", \"defaultValue\": \"%s\", "
	    "\"metadata\": {\"description\": \"Existing vault (RBAC authorization) in this "
	    "resource group; it holds the storage key, the VMs read it with their "
	    "managed identity.\"}},\n"
	    "    \"keyVaultSecretName\": {\"type\": \"string\", \"defaultValue\": \"%s\"},\n"
	    "    \"storeKeyInVault\": {\"type\": \"bool\", \"defaultValue\": true, "
	    "\"metadata\": {\"description\": \"Copy the storage account key into the vault "
	    "secret (false: you put a key, SAS or connection string there yourself).\"}}\n"
	    "  },\n",
	    p->account, p->share, p->vault, p->secret);
}

static int variables(const struct prov_ci_params *p, struct prov_buf *out)
{
	struct prov_ci_params ph = *p;
	struct prov_buf ci;
	int rc;

	ph.account = P_ACCOUNT;
	ph.share = P_SHARE;
	ph.vault = P_VAULT;
	ph.secret = P_SECRET;
	prov_buf_init(&ci);
	rc = prov_cloudinit_text(&ph, &ci);
	if (!rc)
		rc = prov_buf_add(out, "  \"variables\": {\n    \"cloudInitTemplate\": ");
	if (!rc)
		rc = prov_json_string(out, prov_buf_str(&ci));
	prov_buf_release(&ci);
	if (rc)
		return rc;
	return prov_buf_add(
	    out,
	    ",\n"
	    "    \"cloudInit\": \"[replace(replace(replace(replace("
	    "variables('cloudInitTemplate'), '" P_ACCOUNT "', parameters('storageAccountName')), "
	    "'" P_SHARE "', parameters('shareName')), '" P_VAULT "', parameters('keyVaultName')), "
	    "'" P_SECRET "', parameters('keyVaultSecretName'))]\",\n"
	    "    \"vnetName\": \"[concat(parameters('vmssName'), 'vnet')]\",\n"
	    "    \"subnetName\": \"[concat(parameters('vmssName'), 'subnet')]\",\n"
	    "    \"pipName\": \"[concat(parameters('vmssName'), 'pip')]\",\n"
	    "    \"lbName\": \"[concat(parameters('vmssName'), 'lb')]\",\n"
	    "    \"bePoolName\": \"[concat(parameters('vmssName'), 'bepool')]\",\n"
	    "    \"natPoolName\": \"[concat(parameters('vmssName'), 'natpool')]\",\n"
	    "    \"secretsUserRole\": \"[subscriptionResourceId("
	    "'Microsoft.Authorization/roleDefinitions', '" SECRETS_USER_ROLE "')]\"\n"
	    "  },\n");
}

static int res_storage(struct prov_buf *out)
{
	return prov_buf_add(
	    out, "    {\n"
		 "      \"type\": \"Microsoft.Storage/storageAccounts/fileServices/shares\",\n"
		 "      \"apiVersion\": \"2023-01-01\",\n"
		 "      \"name\": \"[format('{0}/default/{1}', parameters('storageAccountName'), "
		 "parameters('shareName'))]\",\n"
		 "      \"properties\": {}\n"
		 "    },\n"
		 "    {\n"
		 "      \"condition\": \"[parameters('storeKeyInVault')]\",\n"
		 "      \"type\": \"Microsoft.KeyVault/vaults/secrets\",\n"
		 "      \"apiVersion\": \"2023-07-01\",\n"
		 "      \"name\": \"[format('{0}/{1}', parameters('keyVaultName'), "
		 "parameters('keyVaultSecretName'))]\",\n"
		 "      \"properties\": {\n"
		 "        \"contentType\": \"azsharefs storage account key\",\n"
		 "        \"value\": \"[listKeys(resourceId('Microsoft.Storage/storageAccounts', "
		 "parameters('storageAccountName')), '2023-01-01').keys[0].value]\"\n"
		 "      }\n"
		 "    },\n");
}

static int res_network(struct prov_buf *out)
{
	return prov_buf_add(
	    out,
	    "    {\n"
	    "      \"type\": \"Microsoft.Network/virtualNetworks\",\n"
	    "      \"apiVersion\": \"2023-04-01\",\n"
	    "      \"name\": \"[variables('vnetName')]\",\n"
	    "      \"location\": \"[parameters('location')]\",\n"
	    "      \"properties\": {\n"
	    "        \"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]},\n"
	    "        \"subnets\": [{\"name\": \"[variables('subnetName')]\", "
	    "\"properties\": {\"addressPrefix\": \"10.0.0.0/24\"}}]\n"
	    "      }\n"
	    "    },\n"
	    "    {\n"
	    "      \"type\": \"Microsoft.Network/publicIPAddresses\",\n"
	    "      \"apiVersion\": \"2023-04-01\",\n"
	    "      \"name\": \"[variables('pipName')]\",\n"
	    "      \"location\": \"[parameters('location')]\",\n"
	    "      \"sku\": {\"name\": \"Standard\"},\n"
	    "      \"properties\": {\"publicIPAllocationMethod\": \"Static\", "
	    "\"dnsSettings\": {\"domainNameLabel\": \"[toLower(parameters('vmssName'))]\"}}\n"
	    "    },\n"
	    "    {\n"
	    "      \"type\": \"Microsoft.Network/loadBalancers\",\n"
	    "      \"apiVersion\": \"2023-04-01\",\n"
	    "      \"name\": \"[variables('lbName')]\",\n"
	    "      \"location\": \"[parameters('location')]\",\n"
	    "      \"sku\": {\"name\": \"Standard\"},\n"
	    "      \"dependsOn\": [\"[resourceId('Microsoft.Network/publicIPAddresses', "
	    "variables('pipName'))]\"],\n"
	    "      \"properties\": {\n"
	    "        \"frontendIPConfigurations\": [{\"name\": \"front\", \"properties\": "
	    "{\"publicIPAddress\": {\"id\": \"[resourceId('Microsoft.Network/publicIPAddresses', "
	    "variables('pipName'))]\"}}}],\n"
	    "        \"backendAddressPools\": [{\"name\": \"[variables('bePoolName')]\"}],\n"
	    "        \"probes\": [{\"name\": \"hub\", \"properties\": {\"protocol\": \"Tcp\", "
	    "\"port\": 8000, \"intervalInSeconds\": 5, \"numberOfProbes\": 2}}],\n"
	    "        \"loadBalancingRules\": [{\"name\": \"jupyterhub\", \"properties\": {\n"
	    "          \"frontendIPConfiguration\": {\"id\": \"[resourceId("
	    "'Microsoft.Network/loadBalancers/frontendIPConfigurations', variables('lbName'), "
	    "'front')]\"},\n"
	    "          \"backendAddressPool\": {\"id\": \"[resourceId("
	    "'Microsoft.Network/loadBalancers/backendAddressPools', variables('lbName'), "
	    "variables('bePoolName'))]\"},\n"
	    "          \"probe\": {\"id\": \"[resourceId('Microsoft.Network/loadBalancers/probes', "
	    "variables('lbName'), 'hub')]\"},\n"
	    "          \"protocol\": \"Tcp\", \"frontendPort\": 8000, \"backendPort\": 8000, "
	    "\"loadDistribution\": \"SourceIP\"}}],\n"
	    "        \"inboundNatPools\": [{\"name\": \"[variables('natPoolName')]\", "
	    "\"properties\": {\n"
	    "          \"frontendIPConfiguration\": {\"id\": \"[resourceId("
	    "'Microsoft.Network/loadBalancers/frontendIPConfigurations', variables('lbName'), "
	    "'front')]\"},\n"
	    "          \"protocol\": \"Tcp\", \"frontendPortRangeStart\": 50000, "
	    "\"frontendPortRangeEnd\": 50119, \"backendPort\": 22}}]\n"
	    "      }\n"
	    "    },\n");
}

static int res_vmss(struct prov_buf *out)
{
	return prov_buf_add(
	    out,
	    "    {\n"
	    "      \"type\": \"Microsoft.Compute/virtualMachineScaleSets\",\n"
	    "      \"apiVersion\": \"2023-03-01\",\n"
	    "      \"name\": \"[parameters('vmssName')]\",\n"
	    "      \"location\": \"[parameters('location')]\",\n"
	    "      \"sku\": {\"name\": \"[parameters('vmSku')]\", \"tier\": \"Standard\", "
	    "\"capacity\": \"[parameters('instanceCount')]\"},\n"
	    "      \"identity\": {\"type\": \"SystemAssigned\"},\n"
	    "      \"dependsOn\": [\n"
	    "        \"[resourceId('Microsoft.Network/virtualNetworks', "
	    "variables('vnetName'))]\",\n"
	    "        \"[resourceId('Microsoft.Network/loadBalancers', variables('lbName'))]\"\n"
	    "      ],\n"
	    "      \"properties\": {\n"
	    "        \"overprovision\": false,\n"
	    "        \"upgradePolicy\": {\"mode\": \"Manual\"},\n"
	    "        \"virtualMachineProfile\": {\n"
	    "          \"storageProfile\": {\n"
	    "            \"osDisk\": {\"createOption\": \"FromImage\", \"caching\": "
	    "\"ReadWrite\"},\n"
	    "            \"imageReference\": {\"publisher\": \"Debian\", \"offer\": \"debian-12\", "
	    "\"sku\": \"12-gen2\", \"version\": \"latest\"}\n"
	    "          },\n"
	    "          \"osProfile\": {\n"
	    "            \"computerNamePrefix\": \"[parameters('vmssName')]\",\n"
	    "            \"adminUsername\": \"[parameters('adminUsername')]\",\n"
	    "            \"customData\": \"[base64(variables('cloudInit'))]\",\n"
	    "            \"linuxConfiguration\": {\n"
	    "              \"disablePasswordAuthentication\": true,\n"
	    "              \"ssh\": {\"publicKeys\": [{\"path\": \"[format('/home/{0}/.ssh/"
	    "authorized_keys', parameters('adminUsername'))]\", \"keyData\": "
	    "\"[parameters('adminSshPublicKey')]\"}]}\n"
	    "            }\n"
	    "          },\n"
	    "          \"networkProfile\": {\"networkInterfaceConfigurations\": [{\n"
	    "            \"name\": \"nic\",\n"
	    "            \"properties\": {\"primary\": true, \"ipConfigurations\": [{\n"
	    "              \"name\": \"ipconfig\",\n"
	    "              \"properties\": {\n"
	    "                \"subnet\": {\"id\": \"[resourceId("
	    "'Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), "
	    "variables('subnetName'))]\"},\n"
	    "                \"loadBalancerBackendAddressPools\": [{\"id\": \"[resourceId("
	    "'Microsoft.Network/loadBalancers/backendAddressPools', variables('lbName'), "
	    "variables('bePoolName'))]\"}],\n"
	    "                \"loadBalancerInboundNatPools\": [{\"id\": \"[resourceId("
	    "'Microsoft.Network/loadBalancers/inboundNatPools', variables('lbName'), "
	    "variables('natPoolName'))]\"}]\n"
	    "              }\n"
	    "            }]}\n"
	    "          }]}\n"
	    "        }\n"
	    "      }\n"
	    "    },\n");
}

static int res_role(struct prov_buf *out)
{
	return prov_buf_add(
	    out,
	    "    {\n"
	    "      \"type\": \"Microsoft.Authorization/roleAssignments\",\n"
	    "      \"apiVersion\": \"2022-04-01\",\n"
	    "      \"scope\": \"[format('Microsoft.KeyVault/vaults/{0}', "
	    "parameters('keyVaultName'))]\",\n"
	    "      \"name\": \"[guid(resourceId('Microsoft.KeyVault/vaults', "
	    "parameters('keyVaultName')), parameters('vmssName'), "
	    "variables('secretsUserRole'))]\",\n"
	    "      \"dependsOn\": [\"[resourceId('Microsoft.Compute/virtualMachineScaleSets', "
	    "parameters('vmssName'))]\"],\n"
	    "      \"properties\": {\n"
	    "        \"roleDefinitionId\": \"[variables('secretsUserRole')]\",\n"
	    "        \"principalId\": \"[reference(resourceId("
	    "'Microsoft.Compute/virtualMachineScaleSets', parameters('vmssName')), '2023-03-01', "
	    "'full').identity.principalId]\",\n"
	    "        \"principalType\": \"ServicePrincipal\"\n"
	    "      }\n"
	    "    }\n");
}

int prov_cloudinit_template(const struct prov_ci_params *p, struct prov_buf *out)
{
	int rc;

	rc = prov_buf_add(out,
			  "{\n"
			  "  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/"
			  "deploymentTemplate.json#\",\n"
			  "  \"contentVersion\": \"1.0.0.0\",\n"
			  "  \"metadata\": {\"description\": \"Scale set of azsharefs pool nodes. "
			  "Generated by azsharefs-provision cloud-init --template. The storage key "
			  "goes from the storage account into Key Vault; VMs read it with their "
			  "managed identity. It is never in settings, customData or a command "
			  "line.\"},\n");
	if (!rc)
		rc = params(p, out);
	if (!rc)
		rc = variables(p, out);
	if (!rc)
		rc = prov_buf_add(out, "  \"resources\": [\n");
	if (!rc)
		rc = res_storage(out);
	if (!rc)
		rc = res_network(out);
	if (!rc)
		rc = res_vmss(out);
	if (!rc)
		rc = res_role(out);
	if (!rc)
		rc = prov_buf_add(
		    out, "  ],\n"
			 "  \"outputs\": {\n"
			 "    \"hubAddress\": {\"type\": \"string\", \"value\": \"[reference("
			 "resourceId('Microsoft.Network/publicIPAddresses', variables('pipName')))."
			 "dnsSettings.fqdn]\"}\n"
			 "  }\n"
			 "}\n");
	return rc;
}
