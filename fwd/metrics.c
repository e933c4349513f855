// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * metrics: fwd's state and counters in the Prometheus text exposition
 * format (version 0.0.4), for `fwctl metrics` and the --textfile writer.
 * Renders only; reading the counters is the caller's.
 */
#include <stdio.h>
#include <string.h>

#include "daemon_int.h"
#include "util.h"

static void label(struct fw_buf *out, const char *name, const char *value,
		  bool last)
{
	buf_printf(out, "%s=\"", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			buf_printf(out, "\\%c", *c);
		else if (*c == '\n')
			buf_printf(out, "\\n");
		else
			buf_add(out, c, 1);
	}
	buf_printf(out, "\"%s", last ? "" : ",");
}

static void header(struct fw_buf *out, const char *name, const char *type,
		   const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t value(const struct fw_counters *now, const char *name,
		      bool bytes)
{
	const struct fw_counter_val *v = counters_get(now, name);

	return v ? (bytes ? v->bytes : v->packets) : 0;
}

static void rule_series(struct fw_buf *out, const struct fw_daemon *d,
			const struct fw_counters *now, bool bytes)
{
	const struct fw_plan *plan = d->active ? d->active->plan : NULL;

	header(out, bytes ? "fwd_rule_bytes_total" : "fwd_rule_packets_total",
	       "counter",
	       bytes ? "Bytes of the packets counted on a rule."
		     : "Packets counted on a rule: new connections, since "
		       "established traffic is accepted first.");
	for (size_t i = 0; plan && i < plan->ncounters; i++) {
		const struct fw_pcounter *c = &plan->counters[i];

		if (c->kind != FW_C_RULE)
			continue;
		buf_printf(out, "%s{",
			   bytes ? "fwd_rule_bytes_total"
				 : "fwd_rule_packets_total");
		label(out, "chain", policy_chain_name(c->chain), false);
		label(out, "rule", c->rule, false);
		label(out, "action", policy_action_name(c->action), true);
		buf_printf(out, "} %llu\n",
			   (unsigned long long)value(now, c->name, bytes));
	}
}

static void chain_series(struct fw_buf *out, const struct fw_daemon *d,
			 const struct fw_counters *now, enum fw_ckind kind,
			 const char *metric, bool bytes, const char *help)
{
	const struct fw_plan *plan = d->active ? d->active->plan : NULL;

	header(out, metric, "counter", help);
	for (size_t i = 0; plan && i < plan->ncounters; i++) {
		const struct fw_pcounter *c = &plan->counters[i];

		if (c->kind != kind ||
		    (kind == FW_C_DEFAULT && c->action != FW_DROP))
			continue;
		buf_printf(out, "%s{", metric);
		label(out, "chain", policy_chain_name(c->chain), true);
		buf_printf(out, "} %llu\n",
			   (unsigned long long)value(now, c->name, bytes));
	}
}

static void state_series(struct fw_buf *out, const struct fw_daemon *d)
{
	const struct fw_ready *a = d->active;

	header(out, "fwd_policy_info", "gauge",
	       "The active policy: its host and the SHA-256 of its document.");
	if (a) {
		buf_printf(out, "fwd_policy_info{");
		label(out, "host", a->policy->host ? a->policy->host : "",
		      false);
		label(out, "sha256", a->meta.sha256, true);
		buf_printf(out, "} 1\n");
	}
	header(out, "fwd_apply_total", "counter",
	       "Policy applies since fwd started, by result.");
	buf_printf(out, "fwd_apply_total{result=\"ok\"} %lu\n", d->apply_ok);
	buf_printf(out, "fwd_apply_total{result=\"error\"} %lu\n",
		   d->apply_failed);
	header(out, "fwd_last_apply_timestamp_seconds", "gauge",
	       "When the last successful apply happened (Unix time).");
	buf_printf(out, "fwd_last_apply_timestamp_seconds %lld\n",
		   (long long)d->last_apply);
	header(out, "fwd_tamper_total", "counter",
	       "Changes to fwd's table by other processes that fwd undid.");
	buf_printf(out, "fwd_tamper_total %lu\n", d->tamper);
}

void metrics_render(struct fw_buf *out, const struct fw_daemon *d,
		    const struct fw_counters *now)
{
	buf_add(out, "", 0);
	rule_series(out, d, now, false);
	rule_series(out, d, now, true);
	chain_series(out, d, now, FW_C_DEFAULT,
		     "fwd_default_drop_packets_total", false,
		     "Packets dropped by a chain's default policy.");
	chain_series(out, d, now, FW_C_DEFAULT, "fwd_default_drop_bytes_total",
		     true, "Bytes of the packets dropped by a chain's default.");
	chain_series(out, d, now, FW_C_INVALID,
		     "fwd_invalid_drop_packets_total", false,
		     "Packets dropped as conntrack-invalid by the baseline.");
	state_series(out, d);
}
