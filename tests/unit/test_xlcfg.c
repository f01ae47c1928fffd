/* Unit tests for the xl.cfg parser: values of every kind, xm-era syntax,
 * overrides, and errors that name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xl/config.h"

struct good_case {
	const char *name;
	const char *text;
	const char *key;
	enum cfg_type type;
	const char *value;   /* NUMBER/STRING: text; LIST: items joined by | */
	int line;
};

static const struct good_case good_cases[] = {
	{"number", "memory = 256\n", "memory", CFG_NUMBER, "256", 1},
	{"hex number", "memory=0x100", "memory", CFG_NUMBER, "0x100", 1},
	{"double quotes", "name = \"demo\"\n", "name", CFG_STRING, "demo", 1},
	{"single quotes, xm era", "memory = '512'\n", "memory", CFG_STRING, "512", 1},
	{"escaped quote", "extra = \"a \\\"b\\\" c\"", "extra", CFG_STRING, "a \"b\" c", 1},
	{"comment after value", "vcpus = 2 # two\n", "vcpus", CFG_NUMBER, "2", 1},
	{"semicolon", "vcpus = 2;\n", "vcpus", CFG_NUMBER, "2", 1},
	{"line after comments", "# c\n\n  # d\nname='x'\n", "name", CFG_STRING, "x", 4},
	{"xm disk list", "disk = [ 'phy:vg/lv,sda1,w', 'file:/srv/xen/swap.img,sda2,w' ]\n",
	 "disk", CFG_LIST, "phy:vg/lv,sda1,w|file:/srv/xen/swap.img,sda2,w", 1},
	{"list over lines", "vif = [\n  'mac=00:16:3e:aa:bb:cc, bridge=xenbr1',\n  'bridge=xenbr0', # 2nd\n]\n",
	 "vif", CFG_LIST, "mac=00:16:3e:aa:bb:cc, bridge=xenbr1|bridge=xenbr0", 1},
	{"empty list", "disk = []\n", "disk", CFG_LIST, "", 1},
	{"trailing comma", "cpus = [ \"0\", \"1\", ]", "cpus", CFG_LIST, "0|1", 1},
	{"last assignment wins", "memory = 128\nmemory = 256\n", "memory", CFG_NUMBER, "256", 2},
	{"root with spaces", "root = '/dev/sda1 ro'\n", "root", CFG_STRING, "/dev/sda1 ro", 1},
};

static void join_items(const struct cfg_value *v, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < v->nitems; i++) {
		if (i)
			strncat(buf, "|", len - strlen(buf) - 1);
		strncat(buf, v->items[i], len - strlen(buf) - 1);
	}
}

static void test_good(void **state)
{
	const struct good_case *c = *state;
	struct xl_config cfg;
	const struct cfg_entry *e;
	char err[256] = "", buf[512];

	assert_int_equal(cfg_parse_text("t.cfg", c->text, &cfg, err, sizeof(err)), 0);
	e = cfg_get(&cfg, c->key);
	assert_non_null(e);
	assert_int_equal(e->val.type, c->type);
	assert_int_equal(e->line, c->line);
	if (c->type == CFG_LIST) {
		join_items(&e->val, buf, sizeof(buf));
		assert_string_equal(buf, c->value);
	} else {
		assert_string_equal(e->val.str, c->value);
	}
	cfg_free(&cfg);
}

struct bad_case {
	const char *name;
	const char *text;
	const char *error; /* exact message */
};

static const struct bad_case bad_cases[] = {
	{"bad number", "name = 'x'\nmemory = 12q\n",
	 "t.cfg:2: memory: expected a number or a quoted string, found '12q'"},
	{"missing equals", "memory 256\n", "t.cfg:1: memory: expected '=' after the setting name"},
	{"unterminated string", "\nname = \"demo\n", "t.cfg:2: name: unterminated string (missing \")"},
	{"unterminated list", "disk = [ 'a',\n 'b'\n", "t.cfg:3: disk: unterminated list (missing ])"},
	{"list without comma", "disk = [ 'a' 'b' ]", "t.cfg:1: disk: expected ',' or ']' in list"},
	{"garbage after value", "vcpus = 2 3\n", "t.cfg:1: vcpus: unexpected '3' after the value"},
	{"missing value", "vcpus =\n", "t.cfg:1: vcpus: expected a value (number, 'string' or [ list ])"},
	{"not a name", "= 3\n", "t.cfg:1: expected a setting name at '= 3'"},
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct xl_config cfg;
	char err[256] = "";

	assert_int_equal(cfg_parse_text("t.cfg", c->text, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, c->error);
	cfg_free(&cfg);
}

static void test_override(void **state)
{
	struct xl_config cfg;
	char err[256] = "";

	(void)state;
	assert_int_equal(cfg_parse_text("t.cfg", "vcpus = 1\nextra = 'a'\n", &cfg, err,
					sizeof(err)), 0);
	assert_int_equal(cfg_override(&cfg, "vcpus=2", err, sizeof(err)), 0);
	assert_int_equal(cfg_override(&cfg, "extra=console=hvc0 quiet", err, sizeof(err)), 0);
	assert_int_equal(cfg_override(&cfg, "disk=['a,xvda,w']", err, sizeof(err)), 0);
	assert_string_equal(cfg_get_str(&cfg, "vcpus"), "2");
	assert_int_equal(cfg_get(&cfg, "vcpus")->val.type, CFG_NUMBER);
	assert_string_equal(cfg_get_str(&cfg, "extra"), "console=hvc0 quiet");
	assert_int_equal(cfg_get(&cfg, "disk")->val.nitems, 1);
	assert_int_equal(cfg_override(&cfg, "novalue", err, sizeof(err)), -1);
	assert_string_equal(err, "command line: 'novalue': expected key=value");
	cfg_free(&cfg);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(good_cases) / sizeof(good_cases[0]) +
				sizeof(bad_cases) / sizeof(bad_cases[0]) + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){good_cases[i].name, test_good, NULL, NULL,
						 (void *)&good_cases[i]};
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){bad_cases[i].name, test_bad, NULL, NULL,
						 (void *)&bad_cases[i]};
	tests[n++] = (struct CMUnitTest){"overrides", test_override, NULL, NULL, NULL};
	return _cmocka_run_group_tests("xlcfg", tests, n, NULL, NULL);
}
