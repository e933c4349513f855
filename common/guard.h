/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard: the lockout guard. Decides from a policy (not from the kernel)
 * whether a client could still open a new TCP connection to a port, by the
 * SPEC's semantics, erring towards "no" when it cannot be sure.
 */
#ifndef FW_GUARD_H
#define FW_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/*
 * True if a new TCP connection from client to server:port would be
 * accepted by the input chain of p. Otherwise false, with a sentence in
 * why[] naming the rule or default that stops it. server may be NULL.
 * -1 (and why) if client or server is not an address.
 */
int guard_admits(const struct fw_policy *p, const char *client,
		 const char *server, unsigned port, char *why, size_t len);

#endif
