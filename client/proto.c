/* The client's reading and writing of the protocol's JSON; see proto.h.
 * Every parse here takes the caller's bytes and hands back borrowed or
 * new references; nothing is kept. */
#include "proto.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pl_proto_err(pl_client_err *err, int rc, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    err->rc = rc;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* lws reports a failed connect() or bind() only as "Unable to connect";
 * errno, read first thing in the callback, still says why. Only causes a
 * caller can act on are kept (an address out of ports: use another). */
int pl_proto_connect_errno(int e)
{
    switch (e) {
    case EADDRNOTAVAIL:
    case EADDRINUSE:
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EMFILE:
    case ENFILE:
    case ENOBUFS: return e;
    default: return 0;
    }
}

void pl_proto_error_body(const char *body, size_t len, int status, pl_client_err *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *e = json_object_get(json_object_get(root, "error"), "code");
    json_t *m = json_object_get(json_object_get(root, "error"), "message");
    if (json_is_string(e))
        pl_proto_err(err, -EPROTO, status, json_string_value(e), "%s",
                     json_is_string(m) ? json_string_value(m) : "");
    else
        pl_proto_err(err, -EPROTO, status, "http", "unexpected HTTP status %d", status);
    json_decref(root);
}

int pl_proto_message_id(const json_t *obj, uint64_t *id)
{
    json_t *jid = json_object_get(obj, "id");
    if (!json_is_integer(jid) || json_integer_value(jid) <= 0)
        return -EPROTO;
    *id = (uint64_t)json_integer_value(jid);
    return 0;
}

void pl_proto_message(json_t *o, uint64_t id, const char *room, pl_client_msg *m)
{
    json_t *user = json_object_get(o, "user"), *text = json_object_get(o, "text");
    json_t *meta = json_object_get(o, "meta");
    *m = (pl_client_msg){
        .id = id,
        .ts = json_integer_value(json_object_get(o, "ts")),
        .room = json_string_value(json_object_get(o, "room")),
        .user = json_string_value(user),
        .user_len = json_string_length(user),
        .text = json_string_value(text),
        .text_len = json_string_length(text),
        .cid = json_string_value(json_object_get(o, "cid")),
        .meta = json_is_object(meta) ? meta : NULL,
    };
    if (!m->room)
        m->room = room;
    if (!m->user)
        m->user = "";
    if (!m->text)
        m->text = "";
}

int pl_proto_lean_message(const char *json, size_t len, bool want_type, uint64_t *id,
                          const char **meta, size_t *meta_len)
{
    static const char *const keys[] = {"id", "meta", "type"};
    pl_jspan v[3];
    if (pl_jscan_members(json, len, keys, want_type ? 3 : 2, v) != 0 ||
        pl_jscan_uint(v[0], id) != 0 || *id == 0 ||
        (want_type && !pl_jscan_string_is(v[2], "message")))
        return -EPROTO;
    *meta = v[1].p;
    *meta_len = v[1].n;
    return 0;
}

int pl_proto_lean_page(const char *body, size_t len, uint64_t *last_id, pl_jspan *messages)
{
    static const char *const keys[] = {"messages", "last_id"};
    pl_jspan v[2];
    if (pl_jscan_members(body, len, keys, 2, v) != 0 || v[0].n == 0 || v[0].p[0] != '[' ||
        pl_jscan_uint(v[1], last_id) != 0)
        return -EPROTO;
    *messages = v[0];
    return 0;
}

int pl_proto_page_parse(const char *body, size_t len, pl_proto_page *p)
{
    p->root = json_loadb(body, len, 0, NULL);
    json_t *last = json_object_get(p->root, "last_id");
    p->messages = json_object_get(p->root, "messages");
    if (!json_is_integer(last) || !json_is_array(p->messages)) {
        json_decref(p->root);
        p->root = NULL;
        return -EPROTO;
    }
    p->last_id = (uint64_t)json_integer_value(last);
    p->gap = json_is_true(json_object_get(p->root, "gap"));
    return 0;
}

void pl_proto_page_free(pl_proto_page *p)
{
    json_decref(p->root);
    p->root = NULL;
}

/* The integer `key` of the JSON object in `body`. 0 or -EPROTO. */
static int int_field(const char *body, size_t len, const char *key, uint64_t *out)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *v = json_object_get(root, key);
    int rc = json_is_integer(v) ? 0 : -EPROTO;
    if (!rc)
        *out = (uint64_t)json_integer_value(v);
    json_decref(root);
    return rc;
}

int pl_proto_last_id(const char *body, size_t len, uint64_t *last_id)
{
    return int_field(body, len, "last_id", last_id);
}

char *pl_proto_ws_url(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *u = json_string_value(json_object_get(root, "ws_url"));
    char *out = u ? strdup(u) : NULL;
    json_decref(root);
    return out;
}

static json_t *publish_json(const pl_pub_msg *m, const char *type)
{
    json_t *o = json_pack("{s:s, s:s}", "user", m->user, "text", m->text);
    if (!o)
        return NULL;
    if (type)
        json_object_set_new(o, "type", json_string(type));
    if (m->cid)
        json_object_set_new(o, "cid", json_string(m->cid));
    if (m->meta_json) {
        json_t *meta = json_loads(m->meta_json, 0, NULL);
        if (!json_is_object(meta)) {
            json_decref(meta);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "meta", meta);
    }
    return o;
}

char *pl_proto_publish_text(const pl_pub_msg *m, const char *type, size_t headroom, size_t *len)
{
    json_t *o = publish_json(m, type);
    char *buf = NULL;
    if (!o)
        return NULL;
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n && (buf = malloc(headroom + n + 1))) {
        *len = json_dumpb(o, buf + headroom, n, JSON_COMPACT);
        buf[headroom + *len] = '\0';
    }
    json_decref(o);
    return buf;
}

int pl_proto_publish_id(const char *body, size_t len, uint64_t *id)
{
    return int_field(body, len, "id", id);
}
