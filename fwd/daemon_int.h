/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon_int: the daemon's state, shared by daemon.c and commands.c only. */
#ifndef FW_DAEMON_INT_H
#define FW_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "counters.h"
#include "daemon.h"
#include "loop.h"
#include "nflog.h"
#include "nl.h"
#include "tamper.h"
#include "plan.h"
#include "policy.h"
#include "sha256.h"
#include "state.h"

/* A policy made ready for the kernel. */
struct fw_ready {
	char *doc;
	size_t len;
	double ms_read, ms_plan; /* what parsing and planning it took */
	struct fw_policy *policy;
	struct fw_plan *plan;
	char plan_sha[FW_SHA256_HEX_LEN]; /* plan_digest */
	struct fw_state_meta meta;
	bool saved; /* STATEDIR holds doc as the active policy */
};

struct fw_daemon {
	struct fw_daemon_config cfg;
	struct fw_nl *nl;
	struct fw_ready *active;
	uint32_t genid;	  /* the kernel's generation after our last commit */
	bool genid_known;
	unsigned long apply_ok, apply_failed;
	time_t last_apply;
	/* Two timed readings of the counters, for rates. */
	struct fw_counters older, newer;
	struct fw_nflog *nflog; /* NULL when the group could not be bound */
	struct fw_timer *sampler, *textfile_timer;
	unsigned long tamper;
	struct fw_loop *loop;
	/* An apply that rolls back unless confirmed in time. */
	bool has_pending;
	struct fw_pending pending;
	struct fw_timer *confirm_timer;
	/* Changes to our table by others, repaired shortly after. */
	struct fw_tamper *tamper_watch;
	struct fw_timer *restore_timer;
	/* Writes the edit log (quick applies' records) out as whole files
	 * when fwd is idle (state_fold). */
	struct fw_timer *fold_timer, *trim_timer;
	uint32_t tamper_pid;
	bool interleaved; /* another commit came next to ours: recheck */
	char tamper_comm[32];
	/*
	 * The last SSH session the lockout guard let through, and for which
	 * active policy (its sha256): a quick apply that changes neither
	 * end's membership keeps the guard's verdict.
	 */
	struct fw_guard_seen {
		char policy[FW_SHA256_HEX_LEN]; /* "" when none */
		char client[64], server[64];
		unsigned port;
	} guard_seen;
};

/* An active policy text longer than this, or whose plan is slim, is not
 * kept in memory once saved: show and rollback read it back from
 * STATEDIR. A kept text lets the next apply find a change of members
 * from the bytes (quick.c). */
#define FW_DOC_KEEP_MAX (8 * 1024 * 1024)
/*
 * An active plan with this many set elements or more lets them go once
 * they are in the kernel, so that fwd's idle memory does not grow with
 * its groups; the next apply replaces the table instead of sending a
 * delta, and show, diff and repairs plan the saved policy again.
 */
#define FW_SLIM_MIN 250000
/* Free heap memory beyond this goes back to the system after an apply. */
#define FW_TRIM_MIN (16u << 20)
/* ... once fwd has been idle this long after an apply. */
#define TRIM_IDLE_MS 300

/* Where an apply's time went, in milliseconds, for its log line. */
enum fw_phase { FW_PH_READ, FW_PH_PLAN, FW_PH_KERNEL, FW_PH_SAVE, FW_NPH };

struct apply_result {
	bool changed; /* the ruleset differs from the active one */
	bool kernel;  /* a transaction was sent */
	double ms[FW_NPH];
};

/* Parses and plans a self-contained document (malloc'ed, NUL-terminated
 * at len; taken over, even on failure) that diagnostics call name ("policy"
 * if NULL); NULL with diagnostics. */
struct fw_ready *daemon_ready_new(const struct fw_daemon *d, const char *name,
				  char *doc, size_t len, const char *by,
				  struct fw_diags *diags);
void daemon_ready_free(struct fw_ready *r);
/*
 * The active policy with its whole plan: d->active itself, or when its
 * plan is slim, the saved policy planned again (*tmp set: free it with
 * daemon_ready_free). NULL when there is none or it cannot be read.
 */
struct fw_ready *daemon_full(struct fw_daemon *d, bool *tmp);
/* Done with what daemon_full gave: a temporary one is freed, and the
 * memory it took goes back to the system. */
void daemon_full_put(struct fw_ready *r, bool tmp);
/* The active policy's text (malloc'ed), from memory or STATEDIR; NULL if
 * neither has it. */
char *daemon_active_doc(const struct fw_daemon *d, size_t *len);
/* daemon_apply flag: r is the policy saved as active (fwd's start). */
#define FW_APPLY_SAVED 0x100
/* daemon_apply flag: r, if it plans the active ruleset with the same host
 * (the same policy written otherwise), replaces the active text without
 * becoming a rollback step (a client's apply; not a rollback's). */
#define FW_APPLY_IN_PLACE 0x200
/*
 * Applies r (taking ownership) and makes it active. flags: FW_NL_DRY_RUN,
 * FW_APPLY_SAVED, FW_APPLY_IN_PLACE. -1 with diagnostics when the kernel
 * refuses; nothing changes then.
 */
int daemon_apply(struct fw_daemon *d, struct fw_ready *r, unsigned flags,
		struct fw_diags *diags, struct apply_result *res);

/*
 * One transaction while fwd's event listener is paused: plan (a delta
 * against old when given), or when ch is given only those set element
 * changes. 0 done, -1 refused (diagnostics), 1 the ruleset changed
 * meanwhile (ch only; nothing done).
 */
int daemon_kernel(struct fw_daemon *d, const struct fw_plan *plan,
		  const struct fw_plan *old, const struct fw_elem_change *ch,
		  size_t nch, unsigned flags, struct fw_diags *diags);
/* Whether the kernel holds what fwd last committed, still: the
 * generation it left and its table. */
bool daemon_kernel_holds(struct fw_daemon *d);
/* d->active changed (kernel: by a transaction): records the kernel's
 * generation, lets go of memory (unless settled: nothing big came or
 * went), schedules a counter reading. */
void daemon_activated(struct fw_daemon *d, bool kernel, bool settled);
/* Folds the edit log into whole files once fwd is idle a while. */
void daemon_fold_later(struct fw_daemon *d);
/*
 * The quick apply (quick.c): doc, a new text of the active policy that
 * is the same text, or differs from it only in the members of a group
 * that the plan holds as sets, becomes active with only those elements
 * sent. 1 done (res filled, doc taken), 0 not such a change (nothing
 * done: apply doc the whole way). keep, if not NULL, names addresses
 * whose membership must not change (the ends of an SSH session whose
 * guard verdict is kept); NULL entries are skipped.
 */
int quick_apply(struct fw_daemon *d, char *doc, size_t len, const char *by,
		const char *const keep[2], struct apply_result *res);

/* Goes back to the previous policy (or to none). -1 with diagnostics. */
int daemon_rollback(struct fw_daemon *d, const char *by,
		    struct fw_diags *diags);
/* Writes the pending record for r, before r reaches the kernel. */
int confirm_prepare(struct fw_daemon *d, const struct fw_ready *r,
		    unsigned secs);
/* r is active: starts the countdown of the prepared record. */
void confirm_start(struct fw_daemon *d);
/* The apply failed: forgets the prepared record. */
void confirm_abandon(struct fw_daemon *d);
/* Confirmed (or rolled back): no more countdown. */
void confirm_clear(struct fw_daemon *d);
/* At start: picks up a pending record left by an earlier fwd. */
void confirm_resume(struct fw_daemon *d);
/* Takes a reading for rates: the newer one becomes the older one. */
void daemon_sample(struct fw_daemon *d);
/* The counters now, and the reading to compute rates from. */
const struct fw_counters *daemon_rate_base(const struct fw_daemon *d,
					   const struct fw_counters *now);
/* Renders the Prometheus text exposition of fwd's state and counters. */
void metrics_render(struct fw_buf *out, const struct fw_daemon *d,
		    const struct fw_counters *now);
/* Writes the metrics to the --textfile path, if any. */
void daemon_write_textfile(struct fw_daemon *d);

#endif
