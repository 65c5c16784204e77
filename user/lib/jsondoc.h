/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	jsondoc.h - one untrusted JSON document read with json-c, strictly
 * DESCRIPTION
 *	What peers send us as JSON (rspamd's pushes, CrowdSec's answers) is
 *	read the same way: strict JSON (json-c's JSON_TOKENER_STRICT), valid
 *	UTF-8, nested at most depth deep, one value and only whitespace
 *	after it. The body must have a NUL at body[len]: json-c is given it
 *	so that it knows the input ends there.
 */
#ifndef MX_JSONDOC_H
#define MX_JSONDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * The value, for json_object_put(); NULL with *null set when it is
 * JSON's null, NULL with a reason in err when it is not one JSON value.
 */
json_object *mx_json_document(const char *body, size_t len, int depth, bool *null,
			      char *err, size_t errlen);

#endif /* MX_JSONDOC_H */
