/* xl.cfg tokenizer and parser. */
#include "xl/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg_parser {
	const char *name;
	const char *p;
	int line;
	char *err;
	size_t errlen;
	const char *key; /* key being parsed, for messages */
};

static int cfg_error(struct cfg_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cfg_error(struct cfg_parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->key)
		snprintf(ps->err, ps->errlen, "%s:%d: %s: %s", ps->name,
			 ps->line, ps->key, msg);
	else
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name, ps->line,
			 msg);
	return -1;
}

/* Length of the text at p up to the end of its line, at most 20: how much
 * of the input an error message quotes. */
static int cfg_token_len(const char *p)
{
	int n = 0;

	while (p[n] && p[n] != '\n' && p[n] != '\r' && n < 20)
		n++;
	return n;
}

/* Skips blanks and comments; newlines too when `lines` is set. */
static void cfg_skip(struct cfg_parser *ps, bool lines)
{
	for (;;) {
		if (*ps->p == '#') {
			while (*ps->p && *ps->p != '\n')
				ps->p++;
		} else if (*ps->p == '\n' && lines) {
			ps->line++;
			ps->p++;
		} else if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') {
			ps->p++;
		} else if (*ps->p == '\\' && ps->p[1] == '\n') {
			ps->line++; /* xm-era line continuation */
			ps->p += 2;
		} else {
			return;
		}
	}
}

static int cfg_string(struct cfg_parser *ps, char **out)
{
	char q = *ps->p++;
	size_t cap = 64, n = 0;
	char *s = malloc(cap);

	if (!s)
		return cfg_error(ps, "out of memory");
	while (*ps->p != q) {
		char c = *ps->p;

		if (c == '\0' || c == '\n') {
			free(s);
			return cfg_error(ps, "unterminated string (missing %c)",
					 q);
		}
		if (c == '\\' && ps->p[1]) {
			ps->p++;
			switch (*ps->p) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			default: c = *ps->p; break;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				return cfg_error(ps, "out of memory");
			}
			s = t;
		}
		s[n++] = c;
		ps->p++;
	}
	ps->p++;
	s[n] = '\0';
	*out = s;
	return 0;
}

/* A number, or (on the command line) a bare word. */
static int cfg_word(struct cfg_parser *ps, char **out, bool bare_ok)
{
	const char *start = ps->p;

	while (*ps->p && !isspace((unsigned char)*ps->p) && *ps->p != ',' &&
	       *ps->p != ']' && *ps->p != '#' && *ps->p != ';')
		ps->p++;
	if (ps->p == start)
		return cfg_error(ps, "expected a value (number, 'string' or "
				     "[ list ])");
	*out = strndup(start, (size_t)(ps->p - start));
	if (!bare_ok) {
		char *end;

		errno = 0;
		strtoll(*out, &end, 0);
		if (*end || errno) {
			int r = cfg_error(ps, "expected a number or a quoted "
					      "string, found '%s'",
					  *out);

			free(*out);
			*out = NULL;
			return r;
		}
	}
	return 0;
}

static void cfg_value_free(struct cfg_value *v)
{
	free(v->str);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int cfg_list(struct cfg_parser *ps, struct cfg_value *v)
{
	v->type = CFG_LIST;
	ps->p++; /* [ */
	for (;;) {
		char *item, **t;

		cfg_skip(ps, true);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (*ps->p == '"' || *ps->p == '\'') {
			if (cfg_string(ps, &item))
				return -1;
		} else if (*ps->p == '\0') {
			return cfg_error(ps, "unterminated list (missing ])");
		} else if (cfg_word(ps, &item, false)) {
			return -1;
		}
		t = realloc(v->items, (v->nitems + 1) * sizeof(*t));
		if (!t) {
			free(item);
			return cfg_error(ps, "out of memory");
		}
		v->items = t;
		v->items[v->nitems++] = item;
		cfg_skip(ps, true);
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p == '\0')
			return cfg_error(ps, "unterminated list (missing ])");
		else if (*ps->p != ']')
			return cfg_error(ps, "expected ',' or ']' in list");
	}
}

static int cfg_value(struct cfg_parser *ps, struct cfg_value *v, bool bare)
{
	memset(v, 0, sizeof(*v));
	if (*ps->p == '[')
		return cfg_list(ps, v);
	if (*ps->p == '"' || *ps->p == '\'') {
		v->type = CFG_STRING;
		return cfg_string(ps, &v->str);
	}
	v->type = CFG_NUMBER;
	if (cfg_word(ps, &v->str, bare))
		return -1;
	if (bare) {
		char *end;

		strtoll(v->str, &end, 0);
		if (*end)
			v->type = CFG_STRING;
	}
	return 0;
}

static int cfg_add(struct cfg_parser *ps, struct xl_config *cfg, char *key,
		   struct cfg_value *v)
{
	struct cfg_entry *t = realloc(cfg->entries, (cfg->n + 1) * sizeof(*t));

	if (!t) {
		free(key);
		cfg_value_free(v);
		return cfg_error(ps, "out of memory");
	}
	cfg->entries = t;
	cfg->entries[cfg->n++] = (struct cfg_entry){key, *v, ps->line};
	return 0;
}

int cfg_parse_text(const char *name, const char *text, struct xl_config *cfg,
		   char *err, size_t errlen)
{
	struct cfg_parser ps = {name, text, 1, err, errlen, NULL};

	memset(cfg, 0, sizeof(*cfg));
	cfg->file = strdup(name);
	for (;;) {
		struct cfg_value v;
		const char *k;
		char *key;
		int line;

		ps.key = NULL;
		cfg_skip(&ps, true);
		if (!*ps.p)
			return 0;
		k = ps.p;
		if (!isalpha((unsigned char)*k) && *k != '_')
			return cfg_error(&ps, "expected a setting name at '%.*s'",
					 cfg_token_len(k), k);
		while (isalnum((unsigned char)*ps.p) || *ps.p == '_')
			ps.p++;
		key = strndup(k, (size_t)(ps.p - k));
		ps.key = key;
		line = ps.line;
		cfg_skip(&ps, false);
		if (*ps.p != '=') {
			cfg_error(&ps, "expected '=' after the setting name");
			free(key);
			return -1;
		}
		ps.p++;
		cfg_skip(&ps, false);
		if (cfg_value(&ps, &v, false)) {
			cfg_value_free(&v);
			free(key);
			return -1;
		}
		cfg_skip(&ps, false);
		if (*ps.p == ';')
			ps.p++;
		cfg_skip(&ps, false);
		if (*ps.p && *ps.p != '\n') {
			cfg_error(&ps, "unexpected '%.*s' after the value",
				  cfg_token_len(ps.p), ps.p);
			cfg_value_free(&v);
			free(key);
			return -1;
		}
		if (cfg_add(&ps, cfg, key, &v))
			return -1;
		cfg->entries[cfg->n - 1].line = line;
	}
}

int cfg_parse_file(const char *path, struct xl_config *cfg, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	FILE *m = open_memstream(&text, &len);
	char buf[4096];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: not a text file", path);
		free(text);
		return -1;
	}
	ret = cfg_parse_text(path, text, cfg, err, errlen);
	free(text);
	return ret;
}

int cfg_override(struct xl_config *cfg, const char *kv, char *err,
		 size_t errlen)
{
	struct cfg_parser ps = {"command line", kv, 0, err, errlen, NULL};
	const char *eq = strchr(kv, '=');
	struct cfg_value v;
	char *key;

	if (!eq || eq == kv) {
		snprintf(err, errlen, "command line: '%s': expected key=value",
			 kv);
		return -1;
	}
	key = strndup(kv, (size_t)(eq - kv));
	ps.key = key;
	ps.p = eq + 1;
	/* A bare value on the command line is the whole rest: xl accepts
	 * extra="a b" after the shell removed the quotes. */
	if (*ps.p != '[' && *ps.p != '"' && *ps.p != '\'') {
		v = (struct cfg_value){.type = CFG_STRING, .str = strdup(ps.p)};
		char *end;

		strtoll(v.str, &end, 0);
		if (!*end && *v.str)
			v.type = CFG_NUMBER;
	} else if (cfg_value(&ps, &v, true)) {
		snprintf(err, errlen, "command line: %s: bad value '%s'", key,
			 eq + 1);
		cfg_value_free(&v);
		free(key);
		return -1;
	}
	return cfg_add(&ps, cfg, key, &v);
}

void cfg_free(struct xl_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->entries[i].key);
		cfg_value_free(&cfg->entries[i].val);
	}
	free(cfg->entries);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

const struct cfg_entry *cfg_get(const struct xl_config *cfg, const char *key)
{
	for (size_t i = cfg->n; i-- > 0;)
		if (strcmp(cfg->entries[i].key, key) == 0)
			return &cfg->entries[i];
	return NULL;
}

const char *cfg_get_str(const struct xl_config *cfg, const char *key)
{
	const struct cfg_entry *e = cfg_get(cfg, key);

	return e && e->val.type != CFG_LIST ? e->val.str : NULL;
}
