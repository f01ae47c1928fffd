/* xl.cfg parser: the `key = value` syntax of xl and of xm-era configs.
 *
 * Values are numbers, strings in single or double quotes, or lists of them
 * in [ ] that may span lines.  `#` starts a comment.  Every error names the
 * file, the line and the key. */
#ifndef KXEN_XL_CONFIG_H
#define KXEN_XL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum cfg_type { CFG_NUMBER, CFG_STRING, CFG_LIST };

struct cfg_value {
	enum cfg_type type;
	char *str;          /* NUMBER and STRING: the text */
	char **items;       /* LIST: strings */
	size_t nitems;
};

struct cfg_entry {
	char *key;
	struct cfg_value val;
	int line;           /* 0 for command-line overrides */
};

struct xl_config {
	char *file;
	struct cfg_entry *entries;
	size_t n;
};

/* Parses the file at path into cfg.  On error returns -1 and writes a
 * message "FILE:LINE: KEY: what was expected" into err. */
int cfg_parse_file(const char *path, struct xl_config *cfg, char *err,
		   size_t errlen);
/* Parses text (name used in messages). */
int cfg_parse_text(const char *name, const char *text, struct xl_config *cfg,
		   char *err, size_t errlen);
/* Applies a command-line `key=value` override (value parsed as in a file;
 * a bare word is a string). */
int cfg_override(struct xl_config *cfg, const char *kv, char *err,
		 size_t errlen);
void cfg_free(struct xl_config *cfg);

/* Lookups: the last assignment wins, as in xl. NULL if absent. */
const struct cfg_entry *cfg_get(const struct xl_config *cfg, const char *key);
/* String or number as text, else NULL. */
const char *cfg_get_str(const struct xl_config *cfg, const char *key);

#endif
