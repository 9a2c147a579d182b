// SPDX-License-Identifier: GPL-2.0
/*
 * elfsieve_probe: a test module for elfsieve's qemu boot test (tests/kernel/qemu_modules.sh). At load time it
 * calls exported functions and reads exported data of other corpus modules (crc7, crc8, crc-ccitt, libcrc32c,
 * xz_dec, nls_base, configfs) and prints each result as one "elfsieve_probe: KEY=VALUE" line in the kernel log.
 * The test compares these lines across the unchanged and the stripped modules and with values computed on the
 * host; any wrong relocation or symbol resolution in a stripped module shows up as a different value.
 */
#include <linux/configfs.h>
#include <linux/crc-ccitt.h>
#include <linux/crc32c.h>
#include <linux/crc7.h>
#include <linux/crc8.h>
#include <linux/module.h>
#include <linux/nls.h>
#include <linux/slab.h>
#include <linux/xz.h>

static const u8 check_input[] = "123456789";

/* xz --check=crc32 -9 of 16 lines "elfsieve probe line NN: stripped modules still work\n" (832 bytes). */
static const u8 xz_payload[] = {
  0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x01, 0x69, 0x22, 0xde, 0x36,
  0x02, 0x00, 0x21, 0x01, 0x1c, 0x00, 0x00, 0x00, 0x10, 0xcf, 0x58, 0xcc,
  0xe0, 0x03, 0x3f, 0x00, 0x5c, 0x5d, 0x00, 0x32, 0x9b, 0x08, 0xf7, 0xa6,
  0x6f, 0x7d, 0x3a, 0xda, 0x63, 0x77, 0x4e, 0xd2, 0x79, 0x72, 0x74, 0xc4,
  0xe5, 0x41, 0x68, 0x35, 0x62, 0xfb, 0x6d, 0x30, 0x04, 0xb1, 0xd7, 0x02,
  0x09, 0xbb, 0x09, 0xef, 0x25, 0x71, 0x52, 0x7f, 0x8e, 0x32, 0xb5, 0x29,
  0xe3, 0xcc, 0x0c, 0xa9, 0x15, 0x68, 0x77, 0x22, 0xaa, 0xee, 0x35, 0x7b,
  0x38, 0x34, 0xd2, 0xcb, 0x88, 0x91, 0xde, 0x6f, 0x6f, 0x97, 0xa6, 0xb2,
  0xa8, 0xc3, 0xb3, 0x37, 0x2c, 0x2b, 0x5a, 0x0c, 0xd5, 0xfa, 0x66, 0xf0,
  0xab, 0x34, 0xbe, 0xb3, 0xec, 0x94, 0x9a, 0xdb, 0xf8, 0x7b, 0x66, 0x27,
  0x0b, 0x0b, 0x00, 0x00, 0x7c, 0xec, 0x7d, 0x69, 0x00, 0x01, 0x74, 0xc0,
  0x06, 0x00, 0x00, 0x00, 0x0d, 0x2c, 0x98, 0x9f, 0x3e, 0x30, 0x0d, 0x8b,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x59, 0x5a
};
#define XZ_PAYLOAD_OUT_SIZE 832

static struct configfs_subsystem probe_subsys;

static const struct config_item_type probe_type = {
	.ct_owner = THIS_MODULE,
};

static void probe_crc(void)
{
	u8 table[CRC8_TABLE_SIZE];

	pr_info("elfsieve_probe: crc7_be=0x%02x\n", crc7_be(0, check_input, sizeof(check_input) - 1));
	pr_info("elfsieve_probe: crc7_be_syndrome_table[1]=0x%02x\n", crc7_be_syndrome_table[1]);
	crc8_populate_msb(table, 0x07);
	pr_info("elfsieve_probe: crc8_msb_0x07=0x%02x\n", crc8(table, check_input, sizeof(check_input) - 1, 0));
	crc8_populate_lsb(table, 0x8c);
	pr_info("elfsieve_probe: crc8_lsb_0x8c=0x%02x\n", crc8(table, check_input, sizeof(check_input) - 1, 0));
	pr_info("elfsieve_probe: crc_ccitt=0x%04x\n", crc_ccitt(0, check_input, sizeof(check_input) - 1));
	pr_info("elfsieve_probe: crc_ccitt_false=0x%04x\n",
		crc_ccitt_false(0xffff, check_input, sizeof(check_input) - 1));
	pr_info("elfsieve_probe: crc_ccitt_table[1]=0x%04x\n", crc_ccitt_table[1]);
	pr_info("elfsieve_probe: crc_ccitt_false_table[1]=0x%04x\n", crc_ccitt_false_table[1]);
	pr_info("elfsieve_probe: crc32c=0x%08x\n", ~crc32c(~0U, check_input, sizeof(check_input) - 1));
	pr_info("elfsieve_probe: crc32c_impl=%s\n", crc32c_impl());
}

static void probe_xz(void)
{
	struct xz_dec *dec;
	struct xz_buf buf;
	u8 *out;
	enum xz_ret ret;

	out = kmalloc(XZ_PAYLOAD_OUT_SIZE + 16, GFP_KERNEL);
	dec = xz_dec_init(XZ_SINGLE, 0);
	if (!out || !dec) {
		pr_info("elfsieve_probe: xz=no-memory\n");
		goto out;
	}
	buf.in = xz_payload;
	buf.in_pos = 0;
	buf.in_size = sizeof(xz_payload);
	buf.out = out;
	buf.out_pos = 0;
	buf.out_size = XZ_PAYLOAD_OUT_SIZE + 16;
	ret = xz_dec_run(dec, &buf);
	pr_info("elfsieve_probe: xz_dec_run=%d out=%zu crc32c=0x%08x\n", ret, buf.out_pos,
		~crc32c(~0U, out, buf.out_pos));
out:
	if (dec)
		xz_dec_end(dec);
	kfree(out);
}

static void probe_nls(void)
{
	static const u8 utf8[] = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac";
	wchar_t utf16[16];
	struct nls_table *cp437;
	wchar_t uni = 0;
	int n;

	n = utf8s_to_utf16s(utf8, sizeof(utf8) - 1, UTF16_LITTLE_ENDIAN, utf16, ARRAY_SIZE(utf16));
	pr_info("elfsieve_probe: utf8s_to_utf16s=%d last=0x%04x\n", n, n > 0 ? utf16[n - 1] : 0);
	cp437 = load_nls("cp437");
	if (!cp437) {
		pr_info("elfsieve_probe: cp437=missing\n");
		return;
	}
	n = cp437->char2uni((const unsigned char *)"\x81", 1, &uni);
	pr_info("elfsieve_probe: cp437 0x81=U+%04x (%d)\n", uni, n);
	unload_nls(cp437);
}

static int __init probe_init(void)
{
	int err;

	probe_crc();
	probe_xz();
	probe_nls();
	config_group_init_type_name(&probe_subsys.su_group, "elfsieve_probe", &probe_type);
	mutex_init(&probe_subsys.su_mutex);
	err = configfs_register_subsystem(&probe_subsys);
	pr_info("elfsieve_probe: configfs_register_subsystem=%d\n", err);
	return err;
}

static void __exit probe_exit(void)
{
	configfs_unregister_subsystem(&probe_subsys);
}

module_init(probe_init);
module_exit(probe_exit);
MODULE_SOFTDEP("pre: nls_cp437");
MODULE_DESCRIPTION("elfsieve boot test: calls exported functions and reads exported data of other modules");
MODULE_LICENSE("GPL");
