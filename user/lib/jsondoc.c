// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	jsondoc.c - one untrusted JSON document read with json-c, strictly
 * DESCRIPTION
 *	See jsondoc.h.
 */
#include <stdint.h>
#include <string.h>

#include "jsondoc.h"
#include "parse.h"

json_object *mx_json_document(const char *body, size_t len, int depth, bool *null,
			      char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	json_tokener *tok;
	json_object *root;
	size_t end;

	*null = false;
	if (len > (size_t)INT32_MAX - 1) {
		mx_err(err, errlen, "a document of %zu bytes is too large", len);
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (!tok) {
		mx_err(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* The NUL too: json-c wants it to know the input ends there. */
	root = json_tokener_parse_ex(tok, body, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(root);
		mx_err(err, errlen, "not JSON: %s at byte %zu",
		       jerr == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(jerr),
		       end < len ? end : len);
		return NULL;
	}
	/* Whitespace may follow the value (and the NUL); nothing else. */
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", body[end])) {
			json_object_put(root);
			mx_err(err, errlen, "trailing bytes after the JSON value at byte %zu", end);
			return NULL;
		}
	}
	*null = root == NULL;
	return root;
}
