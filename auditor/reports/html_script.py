"""The HTML report's script: sorting, filters, copy buttons, and the diagrams of an instance,
drawn when its section is opened.

The page reads without it. It draws from the JSON data block (``html_data``), parsed on the
first section opened, and builds every SVG element with ``createElementNS`` and every text with
``textContent``: values from AWS data are never parsed as markup. Each hop is a box with an
icon and a label told by its resource's id (``sg-``, ``acl-``, ``rtb-``, ``nat-``, ``igw-``,
``vpce-``, ``tgw-attach-``, ``tgw-rtb-``, ``tgw-``, ``pcx-``, ``vpc-``...), else by its step's
name (DNS, hosted zone...), else the step's own name; consecutive hops on one resource share
a box, the first that refuses is drawn red and marked "blocks here", undecided ones amber and
dashed, each with its mark and word.
"""

SCRIPT = r"""
(function () {
  "use strict";
  var doc = document;
  /* The SVG namespace, taken from the parser: the page writes no URL at all. */
  var SVG = (function () {
    var probe = doc.createElement("div");
    probe.innerHTML = "<svg></svg>";
    return probe.firstChild.namespaceURI;
  }());
  var BUILD_ALL_UP_TO = 300;  /* sections built at load; beyond, when asked for */
  var PRINT_ALL_UP_TO = 300;  /* sections opened and drawn for printing */
  var RANK = {not_manageable: 0, unknown: 1, manageable: 2, not_applicable: 3};
  /* g, r, a, n: good, bad (red), undecided (amber), neutral, as in html_markup */
  var MARK = {g: "\u2714", r: "\u2716", a: "?", n: "\u2013"};
  var STATE = {allow: "g", reachable: "g", ok: "g", deny: "r", blocked: "r", fail: "r",
               unknown: "a"};
  var data = null;
  doc.documentElement.classList.add("js");

  /* A hop as the diagrams read it: the four fields of the contract as text, whatever a newer
     report holds (other fields are kept and shown as extra lines). */
  function hop(raw) {
    var shaped = {};
    Object.keys(raw || {}).forEach(function (key) { shaped[key] = raw[key]; });
    ["step", "resource_id", "decision", "rule"].forEach(function (key) {
      shaped[key] = raw && raw[key] !== null && raw[key] !== undefined ? String(raw[key]) : "";
    });
    shaped.step = shaped.step || "step";
    shaped.decision = shaped.decision || "unknown";
    return shaped;
  }

  function tables() {
    if (data === null) {
      data = JSON.parse(doc.getElementById("report-data").textContent);
      data.hops = (data.hops || []).map(hop);
      ["paths", "proofs", "credentials", "instances"].forEach(function (key) {
        data[key] = data[key] || [];
      });
    }
    return data;
  }

  /* ---- sorting ---- */
  function cellKey(row, index, column) {
    if (column === "verdict" && row.hasAttribute("data-v")) {
      var rank = RANK[row.getAttribute("data-v")];
      return rank === undefined ? 9 : rank;
    }
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var sort = cell.getAttribute("data-sort");
    return sort !== null ? Number(sort) : cell.textContent.trim().toLowerCase();
  }

  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var keyed = Array.prototype.map.call(body.rows, function (row, position) {
          return [cellKey(row, index, th.getAttribute("data-col")), position, row];
        });
        keyed.sort(function (a, b) {
          if (a[0] < b[0]) { return ascending ? -1 : 1; }
          if (a[0] > b[0]) { return ascending ? 1 : -1; }
          return a[1] - b[1];
        });
        var fragment = doc.createDocumentFragment();
        keyed.forEach(function (item) { fragment.appendChild(item[2]); });
        body.appendChild(fragment);
      });
    });
  }

  /* ---- filters ---- */
  var form = doc.getElementById("filters");
  var table = doc.getElementById("instance-table");
  var pending = 0;

  function columns() {
    var found = {};
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      found[th.getAttribute("data-col")] = index;
    });
    return found;
  }

  function applyFilters() {
    if (!form || !table) { return; }
    var fields = form.elements;
    var verdict = fields.v.value;
    var code = fields.code.value;
    var at = columns();
    var texts = [];
    ["vpc", "subnet", "name", "region", "account"].forEach(function (name) {
      var input = fields[name];
      var value = input ? input.value.trim().toLowerCase() : "";
      if (value && at[name] !== undefined) { texts.push([at[name], value]); }
    });
    var rows = table.tBodies[0].rows;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var keep = (!verdict || row.getAttribute("data-v") === verdict) &&
        (!code || (" " + (row.getAttribute("data-c") || "") + " ").indexOf(" " + code + " ") >= 0);
      for (var t = 0; keep && t < texts.length; t++) {
        keep = row.cells[texts[t][0]].textContent.toLowerCase().indexOf(texts[t][1]) >= 0;
      }
      if (row.hidden === keep) { row.hidden = !keep; }
      if (keep) { shown++; }
    }
    fields.shown.value = shown + " of " + rows.length + " shown";
  }

  function later() {
    clearTimeout(pending);
    pending = setTimeout(applyFilters, 120);
  }

  if (form) {
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
    form.addEventListener("reset", function () { setTimeout(applyFilters, 0); });
  }

  function filterFrom(link) {
    if (!form) { return; }
    form.reset();
    var names = {v: "v", code: "code", vpc: "vpc", subnet: "subnet", region: "region",
                 account: "account"};
    Object.keys(names).forEach(function (key) {
      var value = link.getAttribute("data-" + key);
      if (value !== null && form.elements[names[key]]) { form.elements[names[key]].value = value; }
    });
    applyFilters();
  }

  /* ---- sections: built when asked for, drawn when opened ----
     Each section is written inside <noscript>: without a script the browser shows it as it
     is; with one, the parser keeps it as text, so 10,000 sections cost no DOM until the
     reader asks for one. The text is the report's markup exactly (every value escaped in it),
     parsed here as the page would have parsed it. */
  function build(hidden) {
    var holder = doc.createElement("div");
    holder.innerHTML = hidden.textContent;
    var section = holder.firstElementChild;
    if (section) { hidden.parentNode.replaceChild(section, hidden); }
    return section;
  }

  function sectionFor(id) {
    var found = doc.getElementById(id);
    if (found) { return found; }
    var hidden = doc.querySelector("noscript[data-i=\"" + CSS.escape(id) + "\"]");
    return hidden ? build(hidden) : null;
  }

  function openTarget(hash, scroll) {
    if (!hash || hash.length < 2) { return; }
    var section = sectionFor(decodeURIComponent(hash.slice(1)));
    if (!section || section.tagName !== "DETAILS") { return; }
    if (!section.open) { section.open = true; }
    if (scroll) { section.scrollIntoView(); }
  }

  function showSections() {
    var rows = table ? table.tBodies[0].rows : [];
    var built = 0;
    for (var i = 0; i < rows.length && built < 1000; i++) {
      var link = rows[i].hidden ? null : rows[i].querySelector("a[href^='#']");
      if (link && sectionFor(link.getAttribute("href").slice(1))) { built++; }
    }
    var each = doc.getElementById("each");
    if (each) { each.scrollIntoView(); }
  }

  doc.addEventListener("click", function (event) {
    var element = event.target;
    var copy = element.closest ? element.closest("button.copy") : null;
    if (copy) { copyCommand(copy); return; }
    if (element.id === "show-sections") { showSections(); return; }
    var link = element.closest ? element.closest("a[href^='#']") : null;
    if (!link) { return; }
    if (link.getAttribute("href") === "#instances" && (link.hasAttribute("data-v") ||
        link.hasAttribute("data-code") || link.hasAttribute("data-vpc") ||
        link.hasAttribute("data-region") || link.hasAttribute("data-account"))) {
      filterFrom(link);
    } else {
      openTarget(link.getAttribute("href"));
    }
  });
  window.addEventListener("hashchange", function () { openTarget(location.hash, true); });

  doc.addEventListener("toggle", function (event) {
    var section = event.target;
    if (section.classList && section.classList.contains("inst") && section.open) {
      draw(section);
    }
  }, true);

  window.addEventListener("beforeprint", function () {
    if (doc.querySelectorAll("noscript.inst").length) { return; }  /* a fleet: what is open */
    var sections = doc.querySelectorAll("details.inst");
    if (sections.length > PRINT_ALL_UP_TO) { return; }
    Array.prototype.forEach.call(sections, function (section) {
      if (!section.open) {
        section.setAttribute("data-print-opened", "");
        draw(section);
        section.open = true;
      }
    });
  });
  window.addEventListener("afterprint", function () {
    Array.prototype.forEach.call(doc.querySelectorAll("[data-print-opened]"), function (s) {
      s.removeAttribute("data-print-opened");
      s.open = false;
    });
  });

  /* ---- fixes and copy buttons, added where they are seen ---- */
  function addCopyButtons(root) {
    Array.prototype.forEach.call(root.querySelectorAll("code.cmd"), function (code) {
      var next = code.nextElementSibling;
      if (next && next.classList.contains("copy")) { return; }
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy the command");
      code.parentNode.insertBefore(button, code.nextSibling);
    });
  }

  function inlineFixes(section) {
    Array.prototype.forEach.call(section.querySelectorAll("a[data-fix]"), function (link) {
      var source = doc.getElementById("code-" + link.getAttribute("data-fix"));
      var fix = source ? source.querySelector(".fix") : null;
      var holder = link.parentNode;
      if (!fix || !holder) { return; }
      var copy = fix.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll("button.copy"), function (button) {
        button.parentNode.removeChild(button);
      });
      holder.parentNode.replaceChild(copy, holder);
    });
  }

  /* ---- copy ---- */
  function copyCommand(button) {
    var code = button.previousElementSibling;
    var value = code ? code.textContent : "";
    function said(done) {
      button.textContent = done ? "Copied" : "Select it to copy";
      setTimeout(function () { button.textContent = "Copy"; }, 1600);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(function () { said(true); },
        function () { said(copyBySelection(value)); });
    } else {
      said(copyBySelection(value));
    }
  }

  function copyBySelection(value) {
    var area = doc.createElement("textarea");
    area.value = value;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    doc.body.appendChild(area);
    area.select();
    var done = false;
    try { done = doc.execCommand("copy"); } catch (error) { done = false; }
    doc.body.removeChild(area);
    return done;
  }

  /* ---- drawing ---- */
  var KINDS = [
    [/hosted_zone|(^|_)zone/, "zone", "hosted zone"],
    [/dns|resolver/, "dns", "DNS"],
    [/(^|_)sg(_|$)|security_group/, "sg", "security group"],
    [/nacl|network_acl/, "nacl", "network ACL"],
    [/transit_gateway|tgw/, "tgw", "transit gateway"],
    [/peering|pcx/, "peering", "peering connection"],
    [/nat_gateway|^nat$/, "nat", "NAT gateway"],
    [/internet_gateway|igw/, "igw", "internet gateway"],
    [/endpoint/, "endpoint", "interface endpoint"],
    [/route/, "route", "route table"]
  ];
  var ICONS = {
    instance: "M4 4h16v7H4zM4 13h16v7H4zM7 7.5h2M7 16.5h2",
    sg: "M12 2l8 3v6c0 5-3.5 8.5-8 11-4.5-2.5-8-6-8-11V5z",
    nacl: "M5 3h14v18H5zM8 8h8M8 12h8M8 16h5",
    route: "M12 22V8M12 8l-5-5M12 8l5-5M5 3v4M19 3v4",
    nat: "M3 9h14l-3-3M21 15H7l3 3",
    igw: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
    endpoint: "M4 6h9v12H4zM13 12h7M17 9l3 3-3 3",
    tgw: "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M12 3v6M12 15v6M3 12h6M15 12h6",
    peering: "M7 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M17 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M10 12h4",
    dns: "M4 5h16v14H4zM8 9h8M8 13h5",
    zone: "M4 5h16v14H4zM4 9h16M8 13h8",
    service: "M7 18a4 4 0 0 1 0-8a5 5 0 0 1 9.6-1.5A4 4 0 1 1 17 18z",
    key: "M8 12a4 4 0 1 0 0 .1M12 12h9M18 12v3M21 12v2",
    shield: "M12 2l8 3v6c0 5-3.5 8.5-8 11-4.5-2.5-8-6-8-11V5zM9 12l2 2 4-4",
    step: "M5 5h14v14H5z"
  };
  var WIDTH = 212, GAP = 34, ROW_GAP = 30, PAD = 8, LINE = 14, CHARS = 31, RULE_LINES = 4;

  /* What a resource is, by its id's prefix: it decides the box, whatever the step's name
     (a "return route" may be a route table's or an internet gateway's). */
  var PREFIXES = [
    ["tgw-attach-", "tgw", "transit gateway attachment"],
    ["tgw-rtb-", "route", "transit gateway route table"],
    ["tgw-", "tgw", "transit gateway"], ["pcx-", "peering", "peering connection"],
    ["sg-", "sg", "security group"], ["acl-", "nacl", "network ACL"],
    ["rtb-", "route", "route table"], ["nat-", "nat", "NAT gateway"],
    ["igw-", "igw", "internet gateway"], ["vpce-", "endpoint", "interface endpoint"],
    ["dopt-", "dns", "DHCP options"], ["eni-", "endpoint", "network interface"],
    ["vgw-", "route", "virtual private gateway"], ["vpc-", "step", "VPC"],
    ["i-", "instance", "instance"]
  ];

  function kindOf(step, resource) {
    if (/dns|resolver|zone/.test(step)) { return KINDS[/zone/.test(step) ? 0 : 1]; }
    for (var p = 0; p < PREFIXES.length; p++) {
      if (resource.indexOf(PREFIXES[p][0]) === 0) {
        return [null, PREFIXES[p][1], PREFIXES[p][2]];
      }
    }
    for (var i = 0; i < KINDS.length; i++) {
      if (KINDS[i][0].test(step)) { return KINDS[i]; }
    }
    return null;
  }

  function wrap(value, width, most) {
    var words = String(value).split(/\s+/), lines = [], line = "";
    words.forEach(function (word) {
      while (word.length > width) {
        if (line) { lines.push(line); line = ""; }
        lines.push(word.slice(0, width));
        word = word.slice(width);
      }
      if (!word) { return; }
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) { lines.push(line); }
    if (lines.length > most) {
      lines = lines.slice(0, most);
      lines[most - 1] = lines[most - 1].slice(0, width - 1) + "\u2026";
    }
    return lines;
  }

  function el(name, attributes, parent) {
    var node = doc.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function label(parent, x, y, value, cls) {
    var node = el("text", {x: x, y: y, "class": cls || ""}, parent);
    node.textContent = value;
    return node;
  }

  /* A node: {icon, kind, id, lines: [[text, cls]], state, stateText, title} */
  function nodeHeight(node) { return PAD * 2 + 20 + 16 + node.lines.length * LINE + 18; }

  function drawNode(svg, node, x, y, height) {
    var group = el("g", {"class": "node " + node.state, transform: "translate(" + x + "," +
                         y + ")"}, svg);
    el("title", {}, group).textContent = node.title;
    el("rect", {"class": "box", width: WIDTH, height: height, rx: 6}, group);
    var icon = el("g", {transform: "translate(" + PAD + "," + (PAD - 2) + ") scale(0.75)"},
                  group);
    el("path", {"class": "icon", d: ICONS[node.icon] || ICONS.step}, icon);
    label(group, PAD + 24, PAD + 12, node.kind, "kind");
    label(group, PAD, PAD + 32, node.id, "rid");
    node.lines.forEach(function (line, index) {
      label(group, PAD, PAD + 36 + (index + 1) * LINE, line[0], line[1] || "rule");
    });
    label(group, PAD, height - PAD, MARK[node.state] + " " + node.stateText, "state");
  }

  function arrow(svg, points) {
    el("polyline", {"class": "edge", points: points.map(function (p) {
      return p.join(",");
    }).join(" ")}, svg);
    var end = points[points.length - 1], before = points[points.length - 2];
    var dx = end[0] - before[0], dy = end[1] - before[1];
    var length = Math.sqrt(dx * dx + dy * dy) || 1;
    var ux = dx / length, uy = dy / length;
    var base = [end[0] - ux * 8, end[1] - uy * 8];
    el("polygon", {"class": "head", points: [end, [base[0] - uy * 4, base[1] + ux * 4],
      [base[0] + uy * 4, base[1] - ux * 4]].map(function (p) { return p.join(","); }).join(" ")},
      svg);
  }

  function layout(nodes, box, caption) {
    var available = Math.max(box.clientWidth || 0, WIDTH + 2);
    var perRow = Math.max(1, Math.min(nodes.length, Math.floor((available + GAP) / (WIDTH + GAP))));
    var rows = [];
    for (var i = 0; i < nodes.length; i += perRow) { rows.push(nodes.slice(i, i + perRow)); }
    var heights = rows.map(function (row) {
      return Math.max.apply(null, row.map(nodeHeight));
    });
    var width = perRow * WIDTH + (perRow - 1) * GAP + 4;
    var height = heights.reduce(function (a, b) { return a + b; }, 0) +
      (rows.length - 1) * ROW_GAP + 4;
    var svg = el("svg", {viewBox: "0 0 " + width + " " + height, width: width, height: height,
                         role: "img", "aria-label": caption});
    var y = 2;
    rows.forEach(function (row, r) {
      row.forEach(function (node, c) {
        var x = 2 + c * (WIDTH + GAP);
        drawNode(svg, node, x, y, heights[r]);
        if (c > 0) {
          arrow(svg, [[x - GAP + 2, y + 24], [x - 2, y + 24]]);
        }
      });
      if (r < rows.length - 1) {
        var lastX = 2 + (row.length - 1) * (WIDTH + GAP) + WIDTH / 2;
        var bottom = y + heights[r];
        var middle = bottom + ROW_GAP / 2;
        arrow(svg, [[lastX, bottom + 2], [lastX, middle], [2 + WIDTH / 2, middle],
                    [2 + WIDTH / 2, bottom + ROW_GAP - 2]]);
      }
      y += heights[r] + ROW_GAP;
    });
    return svg;
  }

  function ruleLines(hops) {
    var lines = [];
    var budget = hops.length > 1 ? 2 : RULE_LINES;
    hops.forEach(function (hop) {
      var prefix = hops.length > 1 ? hop.step.replace(/_/g, " ") + ": " : "";
      wrap(prefix + (hop.rule || ""), CHARS, budget).forEach(function (text) {
        lines.push([text, "rule"]);
      });
      Object.keys(hop).forEach(function (key) {
        if (["step", "resource_id", "decision", "rule"].indexOf(key) < 0 &&
            hop[key] !== null && typeof hop[key] !== "object") {
          lines.push([wrap(key + ": " + hop[key], CHARS, 1)[0], "rule"]);
        }
      });
    });
    return lines;
  }

  function worst(hops) {
    var states = hops.map(function (hop) { return STATE[hop.decision] || "a"; });
    if (states.indexOf("r") >= 0) { return "r"; }
    if (states.indexOf("a") >= 0) { return "a"; }
    return "g";
  }

  function hopNodes(hops) {
    var groups = [];
    hops.forEach(function (hop) {
      var last = groups[groups.length - 1];
      if (last && last[0].resource_id === hop.resource_id && hop.resource_id) {
        last.push(hop);
      } else {
        groups.push([hop]);
      }
    });
    var decided = false;
    return groups.map(function (group) {
      var known = kindOf(group[0].step, group[0].resource_id);
      var state = worst(group);
      var text = "allows";
      if (state === "r") { text = decided ? "refuses" : "blocks here"; decided = true; }
      if (state === "a") { text = "undecided"; }
      var steps = String(group[0].step);
      return {
        icon: known ? known[1] : "step",
        kind: known ? known[2] : group[0].step.replace(/_/g, " "),
        id: group[0].resource_id || "",
        lines: (group.length > 1 ? [] : [[wrap(steps.replace(/_/g, " "), CHARS, 1)[0], "step"]])
          .concat(ruleLines(group)),
        state: state,
        stateText: text,
        title: group.map(function (hop) {
          return hop.step + " " + hop.resource_id + " " + hop.decision + ": " + hop.rule;
        }).join("\n")
      };
    });
  }

  function hopsTable(hops) {
    var details = doc.createElement("details");
    var summary = doc.createElement("summary");
    summary.textContent = "the " + hops.length + " hops as a table";
    details.appendChild(summary);
    var table = doc.createElement("table");
    var head = table.createTHead().insertRow();
    ["step", "resource", "decision", "rule"].forEach(function (name) {
      var th = doc.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    });
    var body = table.createTBody();
    hops.forEach(function (hop) {
      var row = body.insertRow();
      var state = STATE[hop.decision] || "a";
      [hop.step, hop.resource_id, MARK[state] + " " + hop.decision, hop.rule].forEach(
        function (value, index) {
          var cell = row.insertCell();
          cell.textContent = value === null || value === undefined ? "" : String(value);
          if (index === 2) { cell.className = state; }
        });
    });
    details.appendChild(table);
    return details;
  }

  function figure(box, title, state, word) {
    var holder = doc.createElement("figure");
    var caption = doc.createElement("figcaption");
    var mark = doc.createElement("span");
    mark.className = "b " + state;
    mark.textContent = word;
    caption.appendChild(doc.createTextNode(title + " "));
    caption.appendChild(mark);
    holder.appendChild(caption);
    box.appendChild(holder);
    return holder;
  }

  function hopsOf(proof) {
    var d = tables();
    return (d.paths[proof.path] || []).map(function (index) { return d.hops[index]; });
  }

  /* Services whose paths differ only in their names' DNS answers are drawn once. */
  function samePath(proofs) {
    var groups = [], seen = {};
    proofs.forEach(function (proof) {
      var key = [proof.status, proof.via, hopsOf(proof).filter(function (hop) {
        return hop.step !== "dns";
      }).map(function (hop) {
        return [hop.step, hop.resource_id, hop.decision, hop.rule].join("\u0000");
      }).join("\u0001")].join("\u0002");
      if (seen[key] === undefined) { seen[key] = groups.length; groups.push([]); }
      groups[seen[key]].push(proof);
    });
    return groups;
  }

  function drawProofs(box, proofs, instanceName, title) {
    var first = proofs[0];
    var names = proofs.map(function (proof) { return String(proof.service); });
    var hops = [];
    proofs.forEach(function (proof) {
      hopsOf(proof).forEach(function (hop) { if (hop.step === "dns") { hops.push(hop); } });
    });
    hops = hops.concat(hopsOf(first).filter(function (hop) { return hop.step !== "dns"; }));
    var status = STATE[first.status] || "a";
    var holder = figure(box, title || (names.join(", ") + (names.length > 1 ? ": one path" :
                                                                " path")),
                        status, String(first.status));
    var nodes = [{icon: "instance", kind: "instance", id: instanceName,
                  lines: wrap(names.join(", ") + " on TCP 443", CHARS, 3).map(function (t) {
                    return [t, "rule"];
                  }), state: "n",
                  stateText: "source", title: instanceName}];
    nodes = nodes.concat(hopNodes(hops));
    var lines = [];
    proofs.forEach(function (proof) {
      if (proofs.length > 1) {
        lines.push([wrap(proof.hostname || proof.service, CHARS, 1)[0], "rule"]);
      }
    });
    wrap("resolves to " + (first.resolves_to || "?") + ", via " +
         String(first.via || "none").replace(/_/g, " "), CHARS, 3).forEach(function (text) {
      lines.push([text, "rule"]);
    });
    nodes.push({icon: "service", kind: names.length > 1 ? "services" : names[0] + " service",
                id: names.length > 1 ? names.length + " endpoints" : (first.hostname || names[0]),
                lines: lines, state: status, stateText: String(first.status),
                title: proofs.map(function (p) {
                  return p.hostname + " " + p.status;
                }).join("\n")});
    var blocked = nodes.filter(function (node) { return node.stateText === "blocks here"; });
    var caption = names.join(", ") + " " + first.status + " via " + first.via +
      (blocked.length ? ", blocked at " + blocked[0].id : "");
    holder.appendChild(layout(nodes, box, caption));
    if (hops.length) { holder.appendChild(hopsTable(hops)); }
  }

  function drawCredentials(box, entry) {
    var imds = entry.imds || {}, chain = entry.credentials || {}, allowed = entry.permissions || {};
    var holder = figure(box, "credentials and permissions", STATE[allowed.status] || "a",
                        "permissions " + (allowed.status || "unknown"));
    var imdsLines = [];
    if (imds.http_endpoint) { imdsLines.push(["endpoint " + imds.http_endpoint, "rule"]); }
    if (imds.http_tokens) { imdsLines.push(["tokens " + imds.http_tokens, "rule"]); }
    if (imds.hop_limit) { imdsLines.push(["hop limit " + imds.hop_limit, "rule"]); }
    var nodes = [{icon: "instance", kind: "metadata service", id: "169.254.169.254",
                  lines: imdsLines, state: STATE[imds.status] || "a",
                  stateText: String(imds.status || "unknown"),
                  title: "metadata service " + imds.status}];
    var steps = chain.chain || [];
    steps.forEach(function (step, index) {
      nodes.push({icon: "key", kind: "chain, step " + (index + 1), id: "",
                  lines: wrap(step, CHARS, 4).map(function (t) { return [t, "rule"]; }),
                  state: "n", stateText: "tried", title: String(step)});
    });
    var role = chain.role ? String(chain.role).split("/").pop() : "";
    var permissionLines = Object.keys(allowed.by_service || {}).map(function (service) {
      var state = STATE[allowed.by_service[service]] || "a";
      return [MARK[state] + " " + service + " " + allowed.by_service[service], "rule"];
    });
    (allowed.missing_actions || []).slice(0, 3).forEach(function (action) {
      permissionLines.push([wrap("missing " + action, CHARS, 1)[0], "rule"]);
    });
    nodes.push({icon: "key", kind: "credentials", id: role || "(no role)",
                lines: [["via " + String(chain.source || "none").replace(/_/g, " "), "rule"]],
                state: STATE[chain.status] || "a", stateText: String(chain.status || "unknown"),
                title: "credentials " + chain.status + " via " + chain.source});
    nodes.push({icon: "shield", kind: "permissions", id: role || "(no role)",
                lines: permissionLines, state: STATE[allowed.status] || "a",
                stateText: String(allowed.status || "unknown"),
                title: "permissions " + allowed.status + (role ? " of role " + role : "")});
    holder.appendChild(layout(nodes, box, "credentials " + chain.status + " via " +
                              chain.source + ", permissions " + allowed.status));
  }

  function draw(section) {
    if (section.hasAttribute("data-drawn")) { return; }
    section.setAttribute("data-drawn", "");
    inlineFixes(section);
    addCopyButtons(section);
    var d = tables();
    var entry = d.instances[Number(section.getAttribute("data-k"))];
    var box = section.querySelector(".dg");
    if (!entry || !box) { return; }
    var strong = section.querySelector("summary b");
    var name = strong ? strong.textContent.split(" ")[0] : "";
    var proofs = entry.slice(1).map(function (n) { return d.proofs[n]; }).filter(Boolean);
    samePath(proofs).forEach(function (group) { drawProofs(box, group, name); });
    if (d.credentials[entry[0]]) { drawCredentials(box, d.credentials[entry[0]]); }
    ((d.reached || {})[section.getAttribute("data-k")] || []).forEach(function (item) {
      if (d.proofs[item[1]]) { drawProofs(box, [d.proofs[item[1]]], name, item[0] + " path"); }
    });
  }

  var hidden = doc.querySelectorAll("noscript.inst");
  if (hidden.length <= BUILD_ALL_UP_TO) {
    Array.prototype.forEach.call(hidden, build);
  } else {
    var note = doc.querySelector("#each > .why");
    if (note) {
      note.textContent = hidden.length.toLocaleString("en") + " instances: choose one in the " +
        "table (or filter it " +
        "and “show their sections”) to see its section here, its paths drawn.";
    }
  }
  Array.prototype.forEach.call(doc.querySelectorAll("table.sortable"), sortable);
  ["plan", "codes"].forEach(function (id) {
    var part = doc.getElementById(id);
    if (part) { addCopyButtons(part); }
  });
  openTarget(location.hash, true);
}());
"""
