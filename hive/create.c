/*
 * create.c — a new, empty hive in memory: a base block, one bin and a root
 * key carrying a default security descriptor.  hive_save_as() or
 * hive_save_new() (save.c) gives it a file.
 */
#include <talloc.h>

#include "layout.h"

/*
 * A default descriptor for a new root: owner Administrators, group SYSTEM,
 * full control for SYSTEM and Administrators, read for Users, inherited by
 * subkeys (what `reg save` of a fresh key typically carries).
 */
static size_t put_sid(uint8_t *p, uint32_t rid1, uint32_t rid2)
{
	p[0] = 1;
	p[1] = rid2 ? 2 : 1;
	memset(p + 2, 0, 5);
	p[7] = 5; /* SECURITY_NT_AUTHORITY */
	put_le32(p + 8, rid1);
	if (rid2)
		put_le32(p + 12, rid2);
	return rid2 ? 16 : 12;
}

static size_t put_ace(uint8_t *p, uint32_t mask, uint32_t rid1, uint32_t rid2)
{
	size_t sid = put_sid(p + 8, rid1, rid2);

	p[0] = 0;    /* ACCESS_ALLOWED_ACE_TYPE */
	p[1] = 0x03; /* OBJECT_INHERIT | CONTAINER_INHERIT */
	put_le16(p + 2, (uint16_t)(8 + sid));
	put_le32(p + 4, mask);
	return 8 + sid;
}

static size_t default_descriptor(uint8_t *sd)
{
	size_t off = 20, acl, n;

	memset(sd, 0, 256);
	sd[0] = 1;                   /* revision */
	put_le16(sd + 2, 0x8004);    /* SELF_RELATIVE | DACL_PRESENT */
	put_le32(sd + 4, (uint32_t)off);
	off += put_sid(sd + off, 32, 544);
	put_le32(sd + 8, (uint32_t)off);
	off += put_sid(sd + off, 18, 0);
	put_le32(sd + 16, (uint32_t)off);
	acl = off;
	sd[acl] = 2;                 /* ACL revision */
	n = 8;
	n += put_ace(sd + acl + n, 0x000F003F, 18, 0);      /* SYSTEM: all */
	n += put_ace(sd + acl + n, 0x000F003F, 32, 544);    /* Administrators */
	n += put_ace(sd + acl + n, 0x00020019, 32, 545);    /* Users: read */
	put_le16(sd + acl + 2, (uint16_t)n);
	put_le16(sd + acl + 4, 3);
	return acl + n;
}

int hive_create(void *mem, uint32_t minor, const uint16_t *root_name,
		size_t len, struct hive **out)
{
	uint8_t image[REGF_BLOCK_SIZE * 2] = { 0 }, sd[256];
	size_t sd_len = default_descriptor(sd);
	bool latin1 = hv_name_is_latin1(root_name, len);
	size_t name_bytes = latin1 ? len : 2 * len;
	uint8_t *bin = image + REGF_BLOCK_SIZE, *nk, *sk;
	uint32_t nk_off = HBIN_HEADER_SIZE;
	uint32_t nk_size = (CELL_HEADER_SIZE + NK_FIXED_SIZE + (uint32_t)name_bytes + 7) & ~7u;
	uint32_t sk_off = nk_off + nk_size;
	uint32_t sk_size = (CELL_HEADER_SIZE + SK_FIXED_SIZE + (uint32_t)sd_len + 7) & ~7u;
	uint64_t now = hv_now_filetime();
	int ret;

	if (minor < 3 || minor > 6)
		return HIVE_FAIL(HIVE_E_VERSION, "version 1.%u cannot be created", minor);
	if (len == 0 || len > HIVE_MAX_KEY_NAME)
		return HIVE_FAIL(HIVE_E_INVALID, "root name of %zu units", len);
	memcpy(image, REGF_SIGNATURE, 4);
	put_le32(image + REGF_SEQ1, 1);
	put_le32(image + REGF_SEQ2, 1);
	put_le64(image + REGF_TIMESTAMP, now);
	put_le32(image + REGF_MAJOR, 1);
	put_le32(image + REGF_MINOR, minor);
	put_le32(image + REGF_FORMAT, 1);
	put_le32(image + REGF_ROOT, nk_off);
	put_le32(image + REGF_BINS_SIZE, REGF_BLOCK_SIZE);
	put_le32(image + REGF_CLUSTERING, 1);
	put_le32(image + REGF_CHECKSUM, hv_header_checksum(image));

	memcpy(bin, HBIN_SIGNATURE, 4);
	put_le32(bin + HBIN_SIZE, REGF_BLOCK_SIZE);
	put_le64(bin + HBIN_TIMESTAMP, now);

	put_le32(bin + nk_off, (uint32_t)-(int32_t)nk_size);
	nk = bin + nk_off + CELL_HEADER_SIZE;
	memcpy(nk, "nk", 2);
	put_le16(nk + NK_FLAGS, HIVE_KEY_HIVE_ENTRY | HIVE_KEY_NO_DELETE |
				       (latin1 ? HIVE_KEY_COMP_NAME : 0));
	put_le64(nk + NK_LAST_WRITE, now);
	put_le32(nk + NK_PARENT, HIVE_NO_CELL);
	put_le32(nk + NK_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VOLATILE_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VALUE_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_SECURITY, sk_off);
	put_le32(nk + NK_CLASS, HIVE_NO_CELL);
	put_le16(nk + NK_NAME_LEN, (uint16_t)name_bytes);
	hv_store_name(nk + NK_NAME, root_name, len, latin1);

	put_le32(bin + sk_off, (uint32_t)-(int32_t)sk_size);
	sk = bin + sk_off + CELL_HEADER_SIZE;
	memcpy(sk, "sk", 2);
	put_le32(sk + SK_FLINK, sk_off);
	put_le32(sk + SK_BLINK, sk_off);
	put_le32(sk + SK_REFCOUNT, 1);
	put_le32(sk + SK_DESCRIPTOR_SIZE, (uint32_t)sd_len);
	memcpy(sk + SK_DESCRIPTOR, sd, sd_len);

	put_le32(bin + sk_off + sk_size, REGF_BLOCK_SIZE - sk_off - sk_size);

	ret = hive_open_memory(mem, image, sizeof(image), 0, out);
	if (ret == HIVE_OK)
		(*out)->modified = true;
	return ret;
}
