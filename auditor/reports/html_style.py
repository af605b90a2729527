"""The HTML report's style sheet: system fonts, nothing loaded from elsewhere, legible in print.

Statuses are one-letter classes (``g`` good, ``r`` bad, ``a`` undecided, ``n`` neutral; see
``html_markup``): a badge's mark is written before its word here (hidden from screen readers,
which read the word), so colour is never the only signal; the diagrams use the same classes and
dash what is undecided.
"""

CSS = r"""
:root{--good:#1a7f37;--bad:#cf222e;--undecided:#9a6700;--neutral:#57606a;--line:#d0d7de;
--soft:#f6f8fa;--ink:#1f2328;--link:#0969da;--bad-bg:#ffebe9;--undecided-bg:#fff8c5;
--good-bg:#dafbe1;color:var(--ink);
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
body{margin:0 auto;max-width:1320px;padding:.5rem 1.5rem 3rem;line-height:1.45}
a{color:var(--link)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
font-size:.88em}
pre{background:var(--soft);padding:.4rem .6rem;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;margin:.3rem 0}
h1{font-size:1.5rem;margin:.8rem 0 .2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem}
h4{font-size:.95rem;margin:1rem 0 .3rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;
padding:.3rem .6rem;z-index:2}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.source{color:var(--neutral);margin:0}
.b{white-space:nowrap;font-weight:600;padding:0 .35em;border:1px solid currentColor;
border-radius:.3em;font-size:.92em}
td.b{border:0;border-bottom:1px solid var(--line);border-radius:0;font-size:inherit}
.g{color:var(--good)}.r{color:var(--bad)}.a{color:var(--undecided)}.n{color:var(--neutral)}
.b.g::before{content:"\2714\00a0";content:"\2714\00a0"/""}
.b.r::before{content:"\2716\00a0";content:"\2716\00a0"/""}
.b.a::before{content:"?\00a0";content:"?\00a0"/""}
.b.n::before{content:"\2013\00a0";content:"\2013\00a0"/""}
.none{color:var(--neutral);font-style:italic}
.counts{display:flex;flex-wrap:wrap;gap:.8rem;list-style:none;padding:0;margin:.8rem 0}
.counts a{display:block;padding:.5rem 1rem;border:1px solid var(--line);border-radius:.5rem;
text-decoration:none;min-width:9rem}
.counts .count{display:block;font-size:1.9rem;font-weight:700;color:var(--ink)}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.2rem .45rem;text-align:left;
vertical-align:top}
thead th{background:var(--soft);position:sticky;top:0}
caption{text-align:left;font-weight:600;padding:.4rem 0}
th.num,td[data-sort]{text-align:right}
th button.sort{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;
color:inherit}
th[aria-sort=ascending] button.sort::after{content:" \25B2"}
th[aria-sort=descending] button.sort::after{content:" \25BC"}
tr[hidden]{display:none}
table.instances td{white-space:nowrap}table.instances td:last-child{white-space:normal}
.filters{display:none;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;margin:.6rem 0;
padding:.5rem;background:var(--soft);border-radius:.4rem}
.js .filters{display:flex}
.filters label{display:flex;flex-direction:column;font-size:.85rem}
.chart{max-width:100%;height:auto}
.chart text{font-size:13px;fill:var(--ink)}.chart .code{font-family:ui-monospace,monospace}
.chart .bar.r{fill:var(--bad)}.chart .bar.a{fill:#d4a72c}
.chart .bar.n{fill:#8c959f}.chart .bar.g{fill:var(--good)}
.chart a:focus-visible rect,.chart a:hover rect{stroke:var(--ink);stroke-width:2}
details.inst{border:1px solid var(--line);border-radius:.4rem;margin:.35rem 0}
details.inst>summary{padding:.35rem .6rem;cursor:pointer}
details.inst[open]>summary{background:var(--soft);border-bottom:1px solid var(--line)}
details.inst:target>summary{box-shadow:inset 4px 0 var(--link)}
.codes{color:var(--neutral);font-size:.9em}
.body{padding:.2rem 1rem .8rem}
.facts{margin:.4rem 0}.facts span{margin-right:1.1rem;display:inline-block}
.facts b{font-weight:400;color:var(--neutral)}
.reasons{margin:.3rem 0}
.services{list-style:none;padding:0;margin:.2rem 0}.services>li{margin:.2rem 0}
.deciding{margin:.1rem 0;padding-left:1.6rem}
.creds,.chain,.quiet{margin:.25rem 0}.chain{color:var(--neutral);font-size:.9em}
.dg figure{margin:.6rem 0 .8rem}.dg figcaption{font-weight:600;font-size:.92rem}
.dg svg{max-width:100%;height:auto;display:block;margin:.3rem 0}
.dg details{font-size:.88rem}
.node rect.box{fill:#fff;stroke:var(--neutral);stroke-width:1.2}
.node.g rect.box{stroke:var(--good)}
.node.r rect.box{stroke:var(--bad);stroke-width:3;fill:var(--bad-bg)}
.node.a rect.box{stroke:#bf8700;stroke-width:2;stroke-dasharray:7 4;fill:var(--undecided-bg)}
.node text{font-size:12px;fill:var(--ink)}.node .rid{font-family:ui-monospace,monospace;
font-weight:600}.node .rule{font-size:11px;fill:#424a53}.node .kind{font-weight:600}
.node .state{font-weight:700;font-size:11.5px}
.node.g .state{fill:var(--good)}.node.r .state{fill:var(--bad)}
.node.a .state{fill:var(--undecided)}.node.n .state{fill:var(--neutral)}
.node .icon{fill:none;stroke:var(--ink);stroke-width:1.6;stroke-linejoin:round;
stroke-linecap:round}
.edge{fill:none;stroke:var(--neutral);stroke-width:1.5}.head{fill:var(--neutral)}
.findings,.symptoms,.changes{padding-left:1.1rem}
.finding{margin:.5rem 0}.finding p{margin:.15rem 0}.msg{color:var(--ink)}
.why{display:block;color:var(--neutral);font-size:.9em}
.symptom{margin:.3rem 0;list-style:square}
.fix{font-size:.93em}
code.cmd{background:var(--soft);padding:.05em .3em;border:1px solid var(--line);
border-radius:.25em;word-break:break-all}
button.copy{margin-left:.3em;font-size:.78em;padding:0 .4em;cursor:pointer}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem;margin:.2rem 0;
font-size:.9em}dl.kv dt{color:var(--neutral)}dl.kv dd{margin:0}
ul.kv{margin:.2rem 0;padding-left:1rem}
.plan{background:var(--soft);padding:.2rem .6rem;border-radius:.3rem}.plan p{margin:.2rem 0}
.offscreen{position:fixed;left:-9999px;top:0}
@media print{
:root{print-color-adjust:exact;-webkit-print-color-adjust:exact}
body{max-width:none;padding:0;font-size:10pt}
.filters,button.copy,.skip,th button.sort::after{display:none!important}
a{color:inherit;text-decoration:none}
thead th{position:static}
details.inst{break-inside:avoid-page}
h2{break-after:avoid}
}
"""
