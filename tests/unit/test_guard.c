// SPDX-License-Identifier: GPL-2.0-or-later
/* test_guard: the lockout guard's verdicts on small policies, and
 * plandiff's rule- and element-level changes. No root, no kernel. */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "plandiff.h"
#include "policy.h"
#include "t.h"

static struct fw_policy *parse(const char *text)
{
	struct fw_diags d;
	struct fw_policy *p;

	diags_init(&d);
	p = policy_parse("t.json", text, strlen(text), &d);
	diags_free(&d);
	return p;
}

static int admits(const char *policy, const char *client, unsigned port,
		  char *why)
{
	struct fw_policy *p = parse(policy);
	int r = p ? guard_admits(p, client, "192.0.2.1", port, why, 256) : -9;

	policy_free(p);
	return r;
}

static void guard(void)
{
	char why[256] = "";
	const char *base = "{\"version\": 1, \"groups\": {\"adm\": "
			   "[\"10.0.9.0/24\", \"2001:db8:9::/64\"]}, "
			   "\"input\": {\"rules\": [";
	char p[1024];

#define POL(rules) (snprintf(p, sizeof(p), "%s%s]}}", base, rules), p)
	T_OK(admits(POL("{\"name\": \"ssh\", \"proto\": \"tcp\", \"port\": 22, "
			"\"from\": \"adm\"}"),
		    "10.0.9.7", 22, why) == 1,
	     "a client in the ssh rule's group is admitted");
	T_OK(admits(p, "2001:db8:9::7", 22, why) == 1,
	     "over IPv6 too");
	T_OK(admits(p, "10.0.8.7", 22, why) == 0 &&
		     strstr(why, "default drops it"),
	     "a client outside it is not: %s", why);
	T_OK(admits(POL("{\"name\": \"ssh\", \"proto\": \"tcp\", \"port\": 22},"
			"{\"name\": \"bad\", \"from\": \"10.0.9.7\", "
			"\"action\": \"drop\"}"),
		    "10.0.9.7", 22, why) == 0 &&
		     strstr(why, "rule \"bad\" (drop)"),
	     "a drop rule overrides any accept: %s", why);
	T_OK(admits(POL("{\"name\": \"ssh\", \"proto\": \"tcp\", \"port\": 22, "
			"\"iif\": \"eth0\"}"),
		    "10.0.9.7", 22, why) == 0 &&
		     strstr(why, "\"ssh\""),
	     "an accept that depends on the interface is not trusted: %s",
	     why);
	T_OK(admits(POL("{\"name\": \"ssh\", \"proto\": \"tcp\", \"port\": 22, "
			"\"limit\": \"10/minute\"}"),
		    "10.0.9.7", 22, why) == 1,
	     "a rate-limited accept still admits");
	T_OK(admits(POL("{\"name\": \"web\", \"proto\": \"udp\", \"port\": 22}"),
		    "10.0.9.7", 22, why) == 0,
	     "a udp rule does not admit tcp");
	T_OK(admits("{\"version\": 1, \"input\": {\"default\": \"accept\"}}",
		    "10.0.9.7", 22, why) == 1,
	     "a default accept admits");
	T_OK(admits("{\"version\": 1}", "10.0.9.7", 22, why) == 1,
	     "no input chain admits");
	T_OK(admits("{\"version\": 1}", "not-an-ip", 22, why) == -1,
	     "a bad client address is an error");
#undef POL
}

static void diff(void)
{
	const char *a = "table inet t {\n\tcounter input_a {\n\t\tpackets 1 "
			"bytes 2\n\t}\n\n\tset g_v4 {\n\t\ttype ipv4_addr\n"
			"\t\tflags interval\n\t\telements = { 10.0.0.1, "
			"10.0.0.2,\n\t\t\t     10.0.0.3 }\n\t}\n\n\tchain "
			"input {\n\t\ttype filter hook input priority filter; "
			"policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n";
	const char *b = "table inet t {\n\tset g_v4 {\n\t\ttype ipv4_addr\n"
			"\t\tflags interval\n\t\telements = { 10.0.0.1, "
			"10.0.0.3,\n\t\t\t     10.0.0.4 }\n\t}\n\n\tchain "
			"input {\n\t\ttype filter hook input priority filter; "
			"policy accept;\n\t\ttcp dport 22 accept\n\t}\n\n"
			"\tcounter input_a {\n\t\tpackets 9 bytes 9\n\t}\n}\n";
	struct fw_buf out = {0};
	size_t n = plandiff(a, b, &out);

	T_OK(n == 4 &&
		     !strcmp(out.s,
			     "- set g_v4: element 10.0.0.2\n"
			     "- chain input: type filter hook input priority "
			     "filter; policy drop;\n"
			     "+ set g_v4: element 10.0.0.4\n"
			     "+ chain input: type filter hook input priority "
			     "filter; policy accept;\n"),
	     "diff: element and policy changes, order and counter values "
	     "ignored (%zu):\n%s",
	     n, out.s);
	buf_free(&out);
	n = plandiff(a, a, &out);
	T_OK(n == 0 && !strcmp(out.s, ""), "a ruleset has no diff to itself");
	buf_free(&out);
	/* Rule lines that start with "counter" are rules, whole; a map's
	 * elements are the map's. */
	a = "table inet t {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n"
	    "\t\telements = { 10.0.0.1 counter packets 0 bytes 0 comment "
	    "\"r1\" : accept }\n\t}\n\n\tchain input {\n\t\ttype filter "
	    "hook input priority filter; policy drop;\n\t\tcounter name "
	    "\"input_lim\" accept comment \"lim\"\n\t\tcounter name "
	    "\"default_input\" drop\n\t}\n}\n";
	b = "table inet t {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n"
	    "\t\telements = { 10.0.0.2 counter packets 0 bytes 0 comment "
	    "\"r1\" : accept }\n\t}\n\n\tchain input {\n\t\ttype filter "
	    "hook input priority filter; policy drop;\n\t}\n}\n";
	n = plandiff(a, b, &out);
	T_OK(n == 4 &&
		     !strcmp(out.s,
			     "- map m: element 10.0.0.1 counter packets 0 bytes 0 "
			     "comment \"r1\" : accept\n"
			     "- chain input: counter name \"input_lim\" accept "
			     "comment \"lim\"\n"
			     "- chain input: counter name \"default_input\" "
			     "drop\n"
			     "+ map m: element 10.0.0.2 counter packets 0 bytes 0 "
			     "comment \"r1\" : accept\n"),
	     "diff: rules that start with counter, map elements (%zu):\n%s",
	     n, out.s);
	buf_free(&out);
}

int main(void)
{
	guard();
	diff();
	return t_done();
}
