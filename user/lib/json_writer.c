// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	json_writer.c - streaming JSON output
 * DESCRIPTION
 *	Tracks only the nesting depth and whether the current container
 *	already has a member, which is all a streaming writer needs.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "json_writer.h"

#define JSONW_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	unsigned int depth;
	bool pretty;
	bool after_name;
	bool has_member[JSONW_MAX_DEPTH];
};

/* jsonw_new - a writer on f */
json_writer_t *jsonw_new(FILE *f)
{
	json_writer_t *self = calloc(1, sizeof(*self));

	if (self)
		self->out = f;
	return self;
}

/* jsonw_destroy - end the output with a newline and free */
void jsonw_destroy(json_writer_t **self)
{
	if (!*self)
		return;
	fputc('\n', (*self)->out);
	free(*self);
	*self = NULL;
}

/* jsonw_pretty - indent nested values */
void jsonw_pretty(json_writer_t *self, bool on)
{
	self->pretty = on;
}

/* indent - newline and indentation in pretty mode */
static void indent(json_writer_t *self)
{
	if (!self->pretty)
		return;
	fputc('\n', self->out);
	for (unsigned int i = 0; i < self->depth; i++)
		fputs("    ", self->out);
}

/* begin_value - the separator before a value, unless after a name */
static void begin_value(json_writer_t *self)
{
	if (self->after_name) {
		self->after_name = false;
		return;
	}
	if (self->depth && self->depth < JSONW_MAX_DEPTH) {
		if (self->has_member[self->depth])
			fputc(',', self->out);
		self->has_member[self->depth] = true;
		indent(self);
	}
}

/* put_string - a quoted, escaped string */
static void put_string(json_writer_t *self, const char *s)
{
	fputc('"', self->out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':  fputs("\\\"", self->out); break;
		case '\\': fputs("\\\\", self->out); break;
		case '\n': fputs("\\n", self->out); break;
		case '\r': fputs("\\r", self->out); break;
		case '\t': fputs("\\t", self->out); break;
		default:
			if (c < 0x20)
				fprintf(self->out, "\\u%04x", c);
			else
				fputc(c, self->out);
		}
	}
	fputc('"', self->out);
}

/* open_container - start an object or array */
static void open_container(json_writer_t *self, char c)
{
	begin_value(self);
	fputc(c, self->out);
	if (self->depth + 1 < JSONW_MAX_DEPTH)
		self->has_member[self->depth + 1] = false;
	self->depth++;
}

/* close_container - end an object or array */
static void close_container(json_writer_t *self, char c)
{
	bool had = self->depth < JSONW_MAX_DEPTH && self->has_member[self->depth];

	self->depth--;
	if (had)
		indent(self);
	fputc(c, self->out);
}

void jsonw_start_object(json_writer_t *self) { open_container(self, '{'); }
void jsonw_end_object(json_writer_t *self) { close_container(self, '}'); }
void jsonw_start_array(json_writer_t *self) { open_container(self, '['); }
void jsonw_end_array(json_writer_t *self) { close_container(self, ']'); }

/* jsonw_name - the name of the next member */
void jsonw_name(json_writer_t *self, const char *name)
{
	begin_value(self);
	put_string(self, name);
	fputs(self->pretty ? ": " : ":", self->out);
	self->after_name = true;
}

void jsonw_string(json_writer_t *self, const char *value)
{
	begin_value(self);
	put_string(self, value);
}

void jsonw_uint(json_writer_t *self, uint64_t value)
{
	begin_value(self);
	fprintf(self->out, "%" PRIu64, value);
}

void jsonw_int(json_writer_t *self, int64_t value)
{
	begin_value(self);
	fprintf(self->out, "%" PRId64, value);
}

void jsonw_bool(json_writer_t *self, bool value)
{
	begin_value(self);
	fputs(value ? "true" : "false", self->out);
}

void jsonw_null(json_writer_t *self)
{
	begin_value(self);
	fputs("null", self->out);
}

void jsonw_string_field(json_writer_t *self, const char *name, const char *value)
{
	jsonw_name(self, name);
	jsonw_string(self, value);
}

void jsonw_uint_field(json_writer_t *self, const char *name, uint64_t value)
{
	jsonw_name(self, name);
	jsonw_uint(self, value);
}

void jsonw_int_field(json_writer_t *self, const char *name, int64_t value)
{
	jsonw_name(self, name);
	jsonw_int(self, value);
}

void jsonw_bool_field(json_writer_t *self, const char *name, bool value)
{
	jsonw_name(self, name);
	jsonw_bool(self, value);
}

void jsonw_null_field(json_writer_t *self, const char *name)
{
	jsonw_name(self, name);
	jsonw_null(self);
}
