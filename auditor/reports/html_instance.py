"""One instance's section of the HTML report, as static markup inside ``<noscript>``.

Without a script the browser shows the section as it is; with one, the parser keeps it as
text (no DOM for 10,000 sections the reader does not open) and the script builds a section
from that text, the report's markup exactly, when the reader asks for it.

Everything a person needs reads without a script: the verdict and why, each service's status
and the hop that decides it, the credential chain, capabilities, findings with their fixes and
the agent-log symptoms beside the findings they confirm or contradict, and the plan's before
and after. An instance with nothing to say (every service reachable, credentials and
permissions ok, no finding) gets one line for all that. The drawn paths are the script's: it
draws them when the section is opened, from the shared tables of ``html_data`` (the section's
``data-k``).

Instances alike share their proofs, credentials and findings, so the markup of each is made
once per report (``SectionWriter``'s caches): a 10,000-instance page is mostly lookups.
"""

from __future__ import annotations

from typing import Any

from auditor.catalogue import CATALOGUE, MANUAL_ACTIONS
from auditor.reports.html_markup import (
    anchor,
    badge,
    command,
    element,
    generic,
    text,
    word,
)
from auditor.vocabulary import NOT_APPLICABLE, NOT_MANAGEABLE, OK, REACHABLE

# The instance fields this module shows by name; any other one is shown as it is.
_SHOWN = {"instance_id", "name", "region", "state", "platform", "vpc_id", "subnet_id",
          "private_ip", "public_ip", "security_groups", "verdict", "verdict_reasons", "imds",
          "credentials", "permissions", "ssm_view", "findings", "symptoms", "logs",
          "logical_id", "resource_type", "template", "construct_path", "account_id",
          "capabilities"}
_FINDING_SHOWN = {"code", "service", "resource_id", "severity", "message", "title", "details",
                  "logical_id", "capability"}
EVIDENCE_ITEMS = 3  # verbatim log excerpts shown per symptom,
EVIDENCE_CHARACTERS = 2000  # each cut there
_DOT = " \u00b7 "
# A capability in one of these states has nothing to explain or draw
QUIET = (OK, NOT_APPLICABLE)


def label(fields: dict[str, Any]) -> str:
    name = fields.get("name")
    return f"{fields.get('instance_id')} ({name})" if name else str(fields.get("instance_id"))


def _facts(fields: dict[str, Any]) -> str:
    """Where the instance is and what it is, on one line; ids name their own kind."""
    get = fields.get
    view = get("ssm_view") or {}
    parts = [get("account_id") and f"account {text(get('account_id'))}", text(get("region")),
             text(get("vpc_id")), text(get("subnet_id")),
             get("private_ip") and f"private {text(get('private_ip'))}",
             get("public_ip") and f"public {text(get('public_ip'))}",
             text(get("platform")), text(get("state")),
             text(", ".join(get("security_groups") or [])),
             view and "Systems Manager: " + text(", ".join(filter(None, [
                 word(view.get("status")), view.get("agent_version") and
                 f"agent {view['agent_version']}", view.get("reason")])))]
    template = get("template")
    if template:
        line = f":{template['line']}" if template.get("line") else ""
        parts.append(f"template {text(template.get('path'))}{text(line)} "
                     f"{text(get('logical_id'))} {text(get('resource_type'))}")
        if get("construct_path"):
            parts.append(text(get("construct_path")))
    return f'<p class="facts">{_DOT.join(part for part in parts if part)}</p>'


def _symptom(symptom: dict[str, Any]) -> str:
    state = symptom.get("state")
    count = f" \u00d7{symptom['count']}" if symptom.get("count") else ""
    seen = " \u2013 ".join(str(s) for s in (symptom.get("first_seen"),
                                            symptom.get("last_seen")) if s)
    parts = [f"{badge(state)} log <b>{text(symptom.get('label'))}</b>{text(count)}"
             + (f' <span class="seen">{text(seen)}</span>' if seen else ""),
             element("span", text(symptom.get("reason", "")), class_="why")]
    if symptom.get("outside_model"):
        parts.append(element("span", "outside the model: " + text(
            "; ".join(map(str, symptom["outside_model"]))), class_="why"))
    evidence = symptom.get("evidence") or []
    if evidence:
        # ``text`` shows a log's escape sequences as escapes, as the text report does.
        parts.append(element("pre", text("\n".join(
            str(item)[:EVIDENCE_CHARACTERS] for item in evidence[:EVIDENCE_ITEMS]))))
    return element("li", "".join(parts), class_="symptom")


def _explains(symptom: dict[str, Any], finding: dict[str, Any]) -> bool:
    return any(isinstance(cause, dict) and cause.get("code") == finding.get("code")
               and cause.get("resource_id") == finding.get("resource_id")
               for cause in symptom.get("explained_by") or [])


def grouped(findings: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """One entry per code and resource, with the services it concerns: one fix, said once."""
    groups: dict[tuple[Any, Any], tuple[dict[str, Any], list[str]]] = {}
    for finding in findings:
        key = (finding.get("code"), finding.get("resource_id"))
        if key not in groups:
            groups[key] = (finding, [])
        if finding.get("service"):
            groups[key][1].append(str(finding["service"]))
    return list(groups.values())


def headline(fields: dict[str, Any]) -> str:
    """What an instance's line says: its error codes, else its warning codes, else why."""
    findings = fields.get("findings") or []
    for severity in ("error", "warning"):
        codes = [f.get("code") for f in findings if f.get("severity") == severity]
        if codes:
            return ", ".join(dict.fromkeys(map(str, codes)))
    return "; ".join(map(str, (fields.get("verdict_reasons") or [])[:2]))


def _quiet(fields: dict[str, Any], services: dict[str, dict[str, Any]]) -> bool:
    """Nothing to say: every service reachable, credentials and permissions ok, no finding."""
    return not fields.get("findings") and not fields.get("verdict_reasons") and all(
        service.get("status") == REACHABLE for service in services.values()) and all(
        (fields.get(name) or {}).get("status") == OK
        for name in ("imds", "credentials", "permissions"))


class SectionWriter:
    """Writes instance sections from the JSON report's dictionaries; what instances share is
    written once and reused."""

    def __init__(self) -> None:
        self._services_made: dict[tuple[str, int], str] = {}
        self._credentials_made: dict[int, str] = {}
        self._quiet_made: dict[tuple[int, ...], str] = {}
        self._findings_made: dict[tuple, str] = {}
        # Capability tables, written once at the end of the page (``shared_capabilities``)
        # and linked from each instance: thousands of instances share a few dozen.
        self._capabilities_made: dict[tuple, int] = {}
        self._capability_tables: list[str] = []
        self._capability_users: list[int] = []

    # --- network paths and credentials ---------------------------------------------------

    def _service(self, name: str, service: dict[str, Any], number: int) -> str:
        key = (name, number)
        found = self._services_made.get(key)
        if found is None:
            path = service.get("path") or []
            deciding = "".join(
                f"<li>{badge(hop.get('decision'))} {text(hop.get('step'))} "
                f"<code>{text(hop.get('resource_id'))}</code> {text(hop.get('rule'))}</li>"
                for hop in path if hop.get("decision") != "allow")
            if not path and service.get("findings"):  # no path: what stopped the proof
                deciding = "<li>" + text(", ".join(map(str, service["findings"]))) + "</li>"
            found = self._services_made[key] = (
                f"<li>{badge(service.get('status'))} <b>{text(name)}</b> via "
                f"{text(word(service.get('via')))}"
                + (f'<ul class="deciding">{deciding}</ul>' if deciding else "") + "</li>")
        return found

    def _credential_lines(self, fields: dict[str, Any], number: int) -> str:
        found = self._credentials_made.get(number)
        if found is None:
            found = self._credentials_made[number] = _credentials(fields)
        return found

    def _quiet_line(self, services: dict[str, dict[str, Any]], proofs: list[int]) -> str:
        """All reachable, all ok, nothing found: one line says it."""
        key = tuple(proofs)
        found = self._quiet_made.get(key)
        if found is None:
            vias = sorted({word(service.get("via")) for service in services.values()})
            found = self._quiet_made[key] = (
                f'<p class="quiet">{badge(REACHABLE)} {text(", ".join(services))} via '
                f'{text(", ".join(vias))}{_DOT}{badge(OK)} metadata service, credentials and '
                "permissions</p>")
        return found

    # --- findings ------------------------------------------------------------------------

    @staticmethod
    def _fix(finding: dict[str, Any], region: str, shown: set[str]) -> str:
        code = str(finding.get("code"))
        entry = CATALOGUE.get(code)
        if entry is None or finding.get("severity") == "info":
            return ""
        parts = []
        if code not in shown:  # the fix is written once, in the codes' section
            shown.add(code)
            parts.append(f'<p class="fix"><a href="#code-{text(code)}" data-fix="{text(code)}">'
                         f"How to fix {text(code)}</a></p>")
        action = MANUAL_ACTIONS.get(entry.manual_step or "")
        exact = action.command_for_target(str(finding.get("resource_id")), region,
                                          str(finding.get("message", ""))) if action else None
        if exact:
            parts.append(f'<p class="fix"><b>For this one</b> {command(exact)}</p>')
        return "".join(parts)

    def _finding(self, finding: dict[str, Any], services: list[str], region: str,
                 shown: set[str]) -> str:
        extra = {key: value for key, value in finding.items() if key not in _FINDING_SHOWN}
        capability = finding.get("capability")
        scope = ", ".join([*services, str(capability)] if capability else services)
        return "".join([
            f"<p>{badge(finding.get('severity'))} <code class=\"code\">"
            f"{text(finding.get('code'))}</code> {text(finding.get('title', ''))}"
            + (f' <span class="scope">[{text(scope)}]</span>' if scope else "")
            + f" on <code>{text(finding.get('resource_id'))}</code>"
            + (f" (<code>{text(finding['logical_id'])}</code>)"
               if finding.get("logical_id") else "") + "</p>",
            f'<p class="msg">{text(finding.get("message"))}</p>',
            # A capability's finding says in its message what refuses; its details (the
            # statements, the blocking findings again) are in the JSON report.
            generic(finding["details"]) if finding.get("details") and not capability else "",
            generic(extra) if extra else "",
            self._fix(finding, region, shown)])

    def _findings(self, fields: dict[str, Any], symptoms: list[dict[str, Any]]
                  ) -> tuple[str, list[dict[str, Any]]]:
        """The findings, and the symptoms none of them explains."""
        if not fields.get("findings"):
            return "", symptoms
        placed: set[int] = set()
        items = []
        shown: set[str] = set()
        region = str(fields.get("region") or "")
        for finding, services in grouped(fields.get("findings") or []):
            if _drawn(finding):
                continue
            key = (repr(finding), tuple(services), region, frozenset(shown))
            body = self._findings_made.get(key)
            if body is None:
                body = self._findings_made[key] = self._finding(finding, services, region,
                                                                set(shown))
            shown.add(str(finding.get("code")))
            beside = []
            for index, symptom in enumerate(symptoms):
                if index not in placed and _explains(symptom, finding):
                    placed.add(index)
                    beside.append(_symptom(symptom))
            if beside:
                body += f'<ul class="symptoms">{"".join(beside)}</ul>'
            items.append(f'<li class="finding">{body}</li>')
        left = [symptom for index, symptom in enumerate(symptoms) if index not in placed]
        if not items:
            return "", left
        return f'<h4>Findings</h4><ul class="findings">{"".join(items)}</ul>', left

    # --- capabilities --------------------------------------------------------------------

    def _capabilities(self, capabilities: Any, reached: dict[tuple[str, str], int],
                      verdict: Any = None) -> str:
        """``reached``: the numbers of the proofs of the services each capability reaches
        (its ``services``), drawn like the agent's paths. Capabilities that work, or that
        follow an agent which is not manageable (it comes first), take one line."""
        if not isinstance(capabilities, dict) or not capabilities:
            return ""
        plain = all(isinstance(capability, dict) and not capability.get("operator")
                    and not capability.get("operators") for capability in capabilities.values())
        if plain and (verdict == NOT_MANAGEABLE or all(
                capability.get("status") in QUIET for capability in capabilities.values())):
            return ('<p class="quiet caps">' + _DOT.join(
                f"{badge(capability.get('status'))} {text(word(name))}" + (
                    f" ({text(', '.join(map(str, capability['findings'])))})"
                    if capability.get("findings") else "")
                for name, capability in capabilities.items())
                + (" — the agent is not manageable" if verdict == NOT_MANAGEABLE else "")
                + "</p>")
        key = (repr({name: {k: v for k, v in capability.items() if k != "services"}
                     if isinstance(capability, dict) else capability
                     for name, capability in capabilities.items()}), tuple(reached.items()))
        number = self._capabilities_made.get(key)
        if number is None:
            number = self._capabilities_made[key] = len(self._capability_tables) + 1
            self._capability_tables.append(self._capability_table(capabilities, reached))
            self._capability_users.append(0)
        self._capability_users[number - 1] += 1
        return ('<h4>Capabilities</h4><p class="caps">' + _DOT.join(
            f"{badge(capability.get('status') if isinstance(capability, dict) else capability)}"
            f" {text(word(name))}" for name, capability in capabilities.items())
            + f'{_DOT}<a href="#caps-{number}">why, and the paths (table {number})</a></p>')

    def shared_capabilities(self) -> str:
        """Every capability table the sections link to, once each."""
        if not self._capability_tables:
            return ""
        tables = "".join(
            f'<div class="capset" id="caps-{number}"><h3>Table {number}, shared by '
            f'{users:,} instance{"s" if users != 1 else ""}</h3>{table}</div>'
            for number, (table, users) in enumerate(
                zip(self._capability_tables, self._capability_users, strict=True), start=1))
        return ('<section id="capabilities" aria-labelledby="capabilities-h"><h2 '
                'id="capabilities-h">Capabilities that do not work, and why</h2>'
                f"{tables}</section>")

    def _capability_table(self, capabilities: dict[str, Any],
                          reached: dict[tuple[str, str], int]) -> str:
        rows = []
        for name, capability in capabilities.items():
            capability = capability if isinstance(capability, dict) else {"status": capability}
            rest = {key: value for key, value in capability.items()
                    if key not in ("status", "findings", "reasons", "parts", "services")}
            # The parts of one that is not ok, when no reason names those that fail
            parts = " ".join(badge(part.get("status"), str(part.get("name")))
                             for part in capability.get("parts") or []
                             if isinstance(part, dict)) \
                if not capability.get("reasons") and capability.get("status") != OK else ""
            services = capability.get("services")
            # In words, the services it cannot reach and the hop that decides (every one is
            # drawn when the section opens)
            paths = "".join(
                self._service(str(service_name), service, reached[(name, service_name)])
                for service_name, service in services.items()
                if isinstance(service, dict) and (name, service_name) in reached
                and service.get("status") != REACHABLE
            ) if isinstance(services, dict) else ""
            rows.append(
                f'<tr><th scope="row">{text(word(name))}</th>'
                f"<td>{badge(capability.get('status'))}</td>"
                f"<td>{text(', '.join(map(str, capability.get('findings') or [])))}</td>"
                "<td>" + "".join(f"<p>{text(reason)}</p>"
                                 for reason in capability.get("reasons") or [])
                + (f"<p>{parts}</p>" if parts else "")
                + (f'<ul class="services">{paths}</ul>' if paths else "")
                + (generic(rest) if rest else "") + "</td></tr>")
        return ('<table class="caps"><thead><tr><th scope="col">'
                'capability</th><th scope="col">status</th><th scope="col">findings</th>'
                f'<th scope="col">why</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')

    # --- the section ---------------------------------------------------------------------

    def section(self, fields: dict[str, Any], services: dict[str, dict[str, Any]],
                number: int, proofs: list[int], credential: int, codes: str,
                plan: str = "", reached: dict[tuple[str, str], int] | None = None) -> str:
        """The instance's section: ``fields`` and ``services`` as the JSON report has them,
        ``number`` its entry in the script's tables, ``proofs`` and ``credential`` the
        numbers of its proofs and chain there, ``codes`` its headline, ``plan`` its before
        and after (markup) when the report has them, ``reached`` the numbers of the proofs of
        its capabilities' services."""
        symptoms = [s for s in fields.get("symptoms") or [] if isinstance(s, dict)]
        findings, left = self._findings(fields, symptoms)
        reasons = fields.get("verdict_reasons") or []
        if _quiet(fields, services):
            paths = self._quiet_line(services, proofs)
        else:
            paths = ('<h4>Network paths</h4><ul class="services">' + "".join(
                self._service(name, service, number_)
                for (name, service), number_ in zip(services.items(), proofs, strict=True))
                + "</ul><h4>Credentials and permissions</h4>"
                + self._credential_lines(fields, credential))
        more = {key: value for key, value in fields.items()
                if key not in _SHOWN and value not in (None, "", [], {})}
        body = "".join([
            _facts(fields),
            '<ul class="reasons">' + "".join(f"<li>{text(r)}</li>" for r in reasons) + "</ul>"
            if reasons else "",
            plan, paths, '<div class="dg"></div>',
            self._capabilities(fields.get("capabilities"), reached or {},
                               fields.get("verdict")),
            findings,
            _logs(fields, left),
            ("<h4>More</h4>" + generic(more)) if more else "",
        ])
        section_id = anchor(str(fields.get("instance_id")))
        return (f'<noscript class="inst" data-i="{section_id}"><details class="inst" '
                f'id="{section_id}" data-k="{number}"><summary>{badge(fields.get("verdict"))} '
                f'<b>{text(label(fields))}</b> <span class="codes">{text(codes)}</span>'
                f'</summary><div class="body">{body}</div></details></noscript>')


def _drawn(finding: dict[str, Any]) -> bool:
    """A capability's service that cannot be reached: its code is in the capabilities' table,
    which draws the path and says the hop that blocks it (the JSON report has the finding)."""
    details = finding.get("details")
    return bool(finding.get("capability")) and isinstance(details, dict) \
        and bool(details.get("blocked_by"))


def _credentials(fields: dict[str, Any]) -> str:
    imds = fields.get("imds") or {}
    chain = fields.get("credentials") or {}
    permissions = fields.get("permissions") or {}
    role = str(chain.get("role") or "").rsplit("/", 1)[-1]
    tokens = ", ".join(filter(None, [
        imds.get("http_tokens") and f"tokens {imds['http_tokens']}",
        imds.get("hop_limit") and f"hop limit {imds['hop_limit']}"]))
    parts = [f"{badge(imds.get('status'))} metadata service"
             + (f" ({text(tokens)})" if tokens else ""),
             f"{badge(chain.get('status'))} credentials via {text(word(chain.get('source')))}"
             + (f" (role <code>{text(role)}</code>)" if role else ""),
             f"{badge(permissions.get('status'))} permissions"]
    lines = [f'<p class="creds">{_DOT.join(parts)}</p>']
    if chain.get("chain"):
        lines.append('<p class="chain">chain: '
                     + text(" \u2192 ".join(map(str, chain["chain"]))) + "</p>")
    if permissions.get("missing_actions"):
        lines.append('<p class="chain">missing: ' + " ".join(
            f"<code>{text(action)}</code>" for action in permissions["missing_actions"])
            + "</p>")
    return "".join(lines)


def _logs(fields: dict[str, Any], left: list[dict[str, Any]]) -> str:
    logs = fields.get("logs")
    if not isinstance(logs, dict):
        return ""
    names = ", ".join(str(item.get("name")) for item in logs.get("inputs") or []
                      if isinstance(item, dict))
    parts = [f"<h4>Agent log</h4><p>{text(names)}: primary symptom "
             f"<b>{text(logs.get('primary'))}</b></p>"]
    if left:
        parts.append(f'<ul class="symptoms">{"".join(_symptom(s) for s in left)}</ul>')
    parts += [f'<p class="why">{text(note)}</p>' for note in logs.get("notes") or []]
    if logs.get("diagnostics"):
        parts.append("<details><summary>ssm-cli diagnostics</summary>"
                     + generic(logs["diagnostics"]) + "</details>")
    return "".join(parts)
