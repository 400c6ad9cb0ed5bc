/*
 * gen.c — hive-gen: write a large synthetic hive through the engine, for
 * benchmarks.
 *
 *   hive-gen OUT --keys N [--values-per-key M] [--seed S] [--version V]
 *            [--root NAME]
 *
 * The shape imitates real SYSTEM/SOFTWARE hives (measured on the corpus):
 *  - Tree: keys are expanded in random order from a pool, each getting a
 *    fan-out drawn from a heavy-tailed distribution — most keys are leaves
 *    or have a handful of subkeys, a few percent have tens to a hundred,
 *    about one in a thousand has thousands (like Enum or CLSID, which makes
 *    ri indexes).  Depth is capped at 10 below the root.
 *  - Names: 8 to 40 characters, mostly CamelCase words and digits, 10 %
 *    GUIDs, about 3 % Latin-1 (stored compressed) and 2 % beyond Latin-1
 *    (Cyrillic, Greek, CJK, a few non-BMP), so both name encodings appear.
 *  - Values: on average M per key (geometric; default 0.5), a few keys
 *    with hundreds (about 0.8 values per key in all at the default);
 *    REG_SZ, DWORD, BINARY, EXPAND_SZ, MULTI_SZ, QWORD, NONE,
 *    DWORD_BIG_ENDIAN, LINK, resource lists and a few unnamed types; about
 *    one key in ten has a default value.  Sizes are mostly small (inline or
 *    tens of bytes), 0.5 % between 1 and 16 KiB, and about 1 in 10 000
 *    values over 16344 bytes (big data, db records, in 1.4+ hives).
 *    At the defaults, 1 000 000 keys make a file of about 200 MB.
 *  - Some keys have class names, some their own security descriptor (a
 *    handful of distinct ones, shared), and LastWriteTimes spread over
 *    years.
 * The same seed gives the same hive (except base-block timestamps).
 * Progress and the final figures go to stderr.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "hive.h"

#define MAX_DEPTH 10

/* ---- random numbers (splitmix64: small, fast, good enough here) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint32_t range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

/* True with probability per_mille / 1000 ... per 100 000 for `chance`. */
static bool chance(uint32_t per_100k)
{
	return rnd() % 100000 < per_100k;
}

/* ---- names ---- */

static const char *const words[] = {
	"Microsoft", "Windows", "Current", "Version", "Control", "Services",
	"Parameters", "Enum", "Class", "Policies", "Software", "Setup",
	"Config", "Device", "Driver", "Network", "Interface", "Profile",
	"Explorer", "Shell", "Extensions", "Settings", "Cache", "Store",
	"Data", "User", "System", "Security", "Update", "Manager", "Provider",
	"Session", "Hardware", "Display", "Audio", "Power", "Time", "Zone",
	"Keyboard", "Layout", "Font", "Print", "Spooler", "Event", "Log",
	"Task", "Scheduler", "Component", "Servicing", "Package", "Index",
	"Search", "App", "Model", "Runtime", "Classes", "Type", "Lib", "Media",
	"Player", "Internet", "Options", "Zones", "Cert", "Crypt", "Defaults",
	"Temp", "Local", "Remote", "Group", "Policy", "Trust", "Root", "Path",
	"Info", "Mapping", "Filter", "Volume", "Disk", "Storage", "Usb", "Pci",
	"Acpi", "Hid", "Bluetooth", "Wlan", "Tcpip", "Dns", "Dhcp", "Firewall",
	"Defender", "Edge", "Office", "Telemetry", "Diagnostics", "Feature",
};

/* Names beyond ASCII, as UTF-8: Latin-1 ones first, then wider ones. */
static const char *const latin1_words[] = {
	"Größe", "Paramètres", "Configuración", "Überwachung",
	"Sécurité", "Ñandú", "Çalışma", "Données", "Einstellungen_ß", "År",
};
static const char *const wide_words[] = {
	"Параметры", "Настройки", "Ρυθμίσεις", "设置",
	"設定", "구성", "الإعدادات", "הגדרות", "Ключ",
	"𝄞Music", "Δεδομένα", "😀Emoji",
};

/* Appends UTF-8 `s`; keeps the buffer NUL-terminated. */
static void put(char *buf, size_t cap, size_t *used, const char *s)
{
	size_t n = strlen(s);

	if (*used + n >= cap)
		n = cap - 1 - *used;
	memcpy(buf + *used, s, n);
	*used += n;
	buf[*used] = 0;
}

/* Characters (code points) in a UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A key or value name of 8..40 characters (UTF-8 into buf). */
static void make_name(char *buf, size_t cap, bool allow_guid)
{
	size_t used = 0, want = range(8, 40);
	uint32_t kind = range(0, 99);
	char tmp[48];

	buf[0] = 0;
	if (allow_guid && kind < 10) {
		snprintf(buf, cap, "{%08" PRIX32 "-%04" PRIX32 "-%04" PRIX32
			 "-%04" PRIX32 "-%012" PRIX64 "}",
			 (uint32_t)rnd(), range(0, 0xFFFF), range(0, 0xFFFF),
			 range(0, 0xFFFF),
			 (uint64_t)(rnd() & 0xFFFFFFFFFFFFull));
		return;
	}
	if (kind >= 95)
		put(buf, cap, &used, kind >= 98 ?
			    wide_words[range(0, sizeof(wide_words) /
					     sizeof(*wide_words) - 1)] :
			    latin1_words[range(0, sizeof(latin1_words) /
					       sizeof(*latin1_words) - 1)]);
	while (utf8_chars(buf) < want) {
		if (range(0, 5) == 0) {
			snprintf(tmp, sizeof(tmp), "%" PRIu32, range(0, 9999));
			put(buf, cap, &used, tmp);
		} else {
			uint32_t w = range(0, sizeof(words) / sizeof(*words) - 1);
			put(buf, cap, &used, words[w]);
		}
	}
	/* Cut to `want` characters, on a character boundary. */
	for (size_t i = 0, chars = 0; buf[i]; i++) {
		if (((unsigned char)buf[i] & 0xC0) != 0x80 && chars++ == want) {
			buf[i] = 0;
			break;
		}
	}
}

/* ---- values ---- */

static uint8_t *fill(void *mem, size_t len)
{
	uint8_t *p = talloc_array(mem, uint8_t, len ? len : 1);

	for (size_t i = 0; p && i < len; i += 8) {
		uint64_t r = rnd();
		/* Mostly low-entropy bytes, as real binary values are. */
		for (size_t k = 0; k < 8 && i + k < len; k++)
			p[i + k] = (r >> (8 * k)) & (k & 1 ? 0x0F : 0xFF);
	}
	return p;
}

/* UTF-16LE of ASCII-ish text of `chars` characters, NUL-terminated. */
static uint8_t *text(void *mem, size_t chars, size_t *len)
{
	uint8_t *p = talloc_array(mem, uint8_t, 2 * chars + 2);

	for (size_t i = 0; p && i < chars; i++) {
		p[2 * i] = (uint8_t)range(0x20, 0x7E);
		p[2 * i + 1] = chance(200) ? (uint8_t)range(0x01, 0x04) : 0;
	}
	if (p)
		p[2 * chars] = p[2 * chars + 1] = 0;
	*len = 2 * chars + 2;
	return p;
}

/* Data length drawn from the size mix (used for BINARY-like types). */
static size_t blob_size(void)
{
	uint32_t r = range(0, 99999);

	if (r < 10) {               /* 1 in 10 000: big data */
		size_t n = range(16345, 200000);
		/*
		 * hivex reads each big-data segment as its cell size minus 8,
		 * which Windows' full-size segment cells always satisfy; the
		 * engine sizes the last cell to its data, so a tail of 1-4
		 * bytes (mod 8) would read back short in hivex.  Until the
		 * engine allocates the last segment like Windows, keep away
		 * from those lengths: hivex must read what we generate.
		 */
		if ((n % 16344) % 8 >= 1 && (n % 16344) % 8 <= 4)
			n += 4;
		return n;
	}
	if (r < 310)                /* 0.3 %: 1..16 KiB */
		return range(1024, 16344);
	if (r < 30000)
		return range(0, 4); /* inline */
	return range(5, 256);
}

static int add_value(void *mem, struct hive *h, hive_key_t key, bool deflt,
		     uint64_t *bytes)
{
	char name[192];
	uint16_t *uname = NULL;
	size_t ulen = 0, len;
	uint32_t type, r = range(0, 999);
	uint8_t *data;
	int err;

	if (!deflt) {
		make_name(name, sizeof(name), false);
		if (hive_utf8_to_utf16(mem, name, strlen(name), &uname, &ulen))
			return 1;
	}
	if (r < 400) {
		type = HIVE_REG_SZ;
		data = text(mem, blob_size() < 1024 ? range(0, 60) :
				 range(500, 4000), &len);
	} else if (r < 650) {
		type = HIVE_REG_DWORD;
		data = fill(mem, len = 4);
	} else if (r < 750) {
		type = HIVE_REG_BINARY;
		data = fill(mem, len = blob_size());
	} else if (r < 800) {
		type = HIVE_REG_EXPAND_SZ;
		data = text(mem, range(10, 120), &len);
	} else if (r < 850) {
		/* MULTI_SZ: a few strings, each NUL-terminated, then a NUL. */
		uint32_t n = range(0, 6);
		size_t part, total = 0;
		type = HIVE_REG_MULTI_SZ;
		data = talloc_array(mem, uint8_t, 2);
		for (uint32_t i = 0; data && i < n; i++) {
			uint8_t *s = text(mem, range(1, 40), &part);
			data = talloc_realloc(mem, data, uint8_t,
					      total + part + 2);
			if (data && s)
				memcpy(data + total, s, part);
			total += part;
		}
		if (data)
			data[total] = data[total + 1] = 0;
		len = total + 2;
	} else if (r < 900) {
		type = HIVE_REG_QWORD;
		data = fill(mem, len = 8);
	} else if (r < 920) {
		type = HIVE_REG_NONE;
		data = fill(mem, len = range(0, 16));
	} else if (r < 930) {
		type = HIVE_REG_DWORD_BIG_ENDIAN;
		data = fill(mem, len = 4);
	} else if (r < 935) {
		type = HIVE_REG_LINK;
		data = text(mem, range(20, 60), &len);
		len -= 2; /* links carry no NUL */
	} else if (r < 970) {
		type = range(HIVE_REG_RESOURCE_LIST,
			     HIVE_REG_RESOURCE_REQUIREMENTS_LIST);
		data = fill(mem, len = range(20, 600));
	} else {
		/* Types without a name (SAM keeps data in them). */
		type = chance(50000) ? range(12, 0x100) : (uint32_t)rnd();
		data = fill(mem, len = blob_size());
	}
	if (!data)
		return 1;
	err = hive_value_set(h, key, uname, ulen, type, data, len, NULL);
	if (err && err != HIVE_E_EXISTS) {
		fprintf(stderr, "hive-gen: value: %s: %s\n", hive_strerror(err),
			hive_error_detail());
		return 1;
	}
	*bytes += len;
	talloc_free(data);
	talloc_free(uname);
	return 0;
}

/* Values per key: geometric with mean m; 1 in 2000 keys gets hundreds. */
static uint32_t value_count(double m)
{
	uint32_t n = 0;

	if (chance(50))
		return range(100, 600);
	if (m <= 0)
		return 0;
	/* P(continue) = m / (m + 1) gives mean m. */
	while ((double)(rnd() % 1000000) < 1000000.0 * m / (m + 1) && n < 100)
		n++;
	return n;
}

/* Subkeys for a key being expanded at `depth`. */
static uint32_t fan_out(unsigned depth)
{
	uint32_t r = range(0, 99999);

	if (depth == 0)
		return range(6, 14);
	if (depth >= MAX_DEPTH)
		return 0;
	if (r < 100)                /* 0.1 %: thousands (ri indexes) */
		return range(1000, 6000);
	if (r < 3000)
		return range(16, 120);
	if (r < 15000)
		return range(4, 15);
	if (r < 45000)
		return range(1, 3);
	return 0;
}

/* A few distinct security descriptors, as self-relative bytes. */
static size_t make_sd(uint8_t *sd, uint32_t variant)
{
	size_t off = 20;
	static const uint32_t rids[] = { 544, 545, 547, 551, 555, 559, 568 };

	memset(sd, 0, 128);
	sd[0] = 1;
	sd[2] = 0x04;
	sd[3] = 0x80;                       /* SELF_RELATIVE | DACL_PRESENT */
	sd[4] = (uint8_t)off;               /* owner */
	sd[off] = 1, sd[off + 1] = 2, sd[off + 7] = 5, sd[off + 8] = 32;
	sd[off + 12] = (uint8_t)rids[variant % 7];
	sd[off + 13] = (uint8_t)(rids[variant % 7] >> 8);
	off += 16;
	sd[8] = (uint8_t)off;               /* group: SYSTEM */
	sd[off] = 1, sd[off + 1] = 1, sd[off + 7] = 5, sd[off + 8] = 18;
	off += 12;
	sd[16] = (uint8_t)off;              /* DACL with one ACE */
	sd[off] = 2;
	sd[off + 2] = 8 + 20;
	sd[off + 4] = 1;
	size_t ace = off + 8;
	sd[ace + 1] = 0x02;                 /* CONTAINER_INHERIT */
	sd[ace + 2] = 20;
	sd[ace + 4] = (uint8_t)(0x19 + variant); /* varies the access mask */
	sd[ace + 6] = 0x02;
	sd[ace + 8] = 1, sd[ace + 9] = 1, sd[ace + 15] = 5, sd[ace + 16] = 18;
	return ace + 20;
}

struct node {
	hive_key_t key;
	uint8_t depth;
};

static void usage(FILE *f)
{
	fputs("Usage: hive-gen OUT --keys N [--values-per-key M] [--seed S]\n"
	      "                [--version 1.3|1.4|1.5] [--root NAME]\n"
	      "Writes a synthetic hive of N keys (root included) with on\n"
	      "average M values per key besides default values and a few keys\n"
	      "with hundreds (default 0.5: about 200 bytes of file per key).\n"
	      "OUT is replaced if it exists.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "values-per-key", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "version", required_argument, NULL, 'v' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void *mem = talloc_new(NULL);
	uint64_t nkeys = 0, seed = 1, values = 0, data_bytes = 0;
	double per_key = 0.5;
	uint32_t minor = 5;
	const char *root_name = "ROOT", *out;
	struct hive *h;
	struct node *nodes;
	uint32_t *pool;
	size_t npool = 0, created = 1, max_fan = 0;
	unsigned max_depth = 0;
	struct timespec t0, t1, t2;
	uint16_t *u;
	size_t ulen;
	int c, err;

	while ((c = getopt_long(argc, argv, "k:m:s:v:r:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'k':
			nkeys = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			per_key = strtod(optarg, NULL);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			minor = !strcmp(optarg, "1.3") ? 3 :
				!strcmp(optarg, "1.4") ? 4 :
				!strcmp(optarg, "1.5") ? 5 : 0;
			break;
		case 'r':
			root_name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || nkeys < 1 || nkeys > 20000000 || !minor ||
	    per_key < 0 || per_key > 100) {
		usage(stderr);
		return 2;
	}
	out = argv[optind];
	rng_state = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (hive_utf8_to_utf16(mem, root_name, strlen(root_name), &u, &ulen) ||
	    (err = hive_create(mem, minor, u, ulen, &h))) {
		fprintf(stderr, "hive-gen: cannot create: %s\n",
			hive_error_detail());
		return 1;
	}
	nodes = talloc_array(mem, struct node, nkeys);
	pool = talloc_array(mem, uint32_t, nkeys);
	if (!nodes || !pool) {
		fprintf(stderr, "hive-gen: out of memory\n");
		return 1;
	}
	nodes[0].key = hive_root(h);
	nodes[0].depth = 0;
	pool[npool++] = 0;

	while (created < nkeys) {
		uint32_t pick, fan;
		struct node parent;

		if (npool == 0) {
			/* All expanded: let a random shallow key grow. */
			uint32_t i = range(0, (uint32_t)created - 1);
			if (nodes[i].depth < MAX_DEPTH)
				pool[npool++] = i;
			continue;
		}
		pick = range(0, (uint32_t)npool - 1);
		parent = nodes[pool[pick]];
		pool[pick] = pool[--npool];
		fan = fan_out(parent.depth);
		if (fan > max_fan)
			max_fan = fan;
		for (uint32_t i = 0; i < fan && created < nkeys; i++) {
			char name[192];
			void *iter = talloc_new(mem);
			hive_key_t key;

			make_name(name, sizeof(name), true);
			if (hive_utf8_to_utf16(iter, name, strlen(name), &u,
					       &ulen)) {
				talloc_free(iter);
				continue;
			}
			err = hive_key_create(h, parent.key, u, ulen, &key);
			if (err == HIVE_E_EXISTS) {
				talloc_free(iter);
				continue; /* same name drawn twice: skip */
			}
			if (err) {
				fprintf(stderr, "hive-gen: key: %s: %s\n",
					hive_strerror(err), hive_error_detail());
				return 1;
			}
			nodes[created].key = key;
			nodes[created].depth = parent.depth + 1;
			if (parent.depth + 1u > max_depth)
				max_depth = parent.depth + 1u;
			pool[npool++] = (uint32_t)created;
			created++;

			uint32_t nv = value_count(per_key);
			if (chance(10000) &&
			    add_value(iter, h, key, true, &data_bytes))
				return 1;
			for (uint32_t v = 0; v < nv; v++) {
				if (add_value(iter, h, key, false, &data_bytes))
					return 1;
				values++;
			}
			if (chance(1000)) {
				/* Class names: short UTF-16 strings. */
				size_t clen;
				uint8_t *cls = text(iter, range(4, 30), &clen);
				if (cls)
					hive_key_set_class(h, key, cls, clen - 2);
			}
			if (chance(100)) {
				uint8_t sd[128];
				size_t sdlen = make_sd(sd, range(0, 11));
				err = hive_key_set_security(h, key, sd, sdlen);
				if (err) {
					fprintf(stderr, "hive-gen: security: %s\n",
						hive_error_detail());
					return 1;
				}
			}
			talloc_free(iter);
			if (created % 100000 == 0)
				fprintf(stderr, "hive-gen: %zu keys\n", created);
		}
	}
	/* LastWriteTimes spread over 2015..2024, parents included. */
	for (size_t i = 0; i < created; i++)
		hive_key_set_time(h, nodes[i].key,
				  130645440000000000ull +
					  rnd() % 3155760000000000ull);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	err = hive_save_as(h, out);
	if (err) {
		fprintf(stderr, "hive-gen: %s: %s: %s\n", out,
			hive_strerror(err), hive_error_detail());
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);

	struct hive_info info;
	double build = (double)(t1.tv_sec - t0.tv_sec) +
		       (t1.tv_nsec - t0.tv_nsec) / 1e9;
	double save = (double)(t2.tv_sec - t1.tv_sec) +
		      (t2.tv_nsec - t1.tv_nsec) / 1e9;
	hive_get_info(h, &info);
	fprintf(stderr,
		"hive-gen: %s: %zu keys (depth %u, largest fan-out %zu), "
		"%" PRIu64 " values (%" PRIu64 " data bytes), %" PRIu64
		" bytes of bins; build %.2f s, save %.2f s\n",
		out, created, max_depth, max_fan, values, data_bytes,
		(uint64_t)info.bins_size, build, save);
	talloc_free(mem);
	return 0;
}
