#!/usr/bin/env bash
# Regenerates the README's pictures from a cold-cache quickstart run: docs/dashboard.png (the ink dashboard in a
# 120×32 tmux pane while the search runs, captured with colours and drawn by headless Chromium), docs/report.png
# (the report's first screen) and docs/pareto.png (the search plot). Needs tmux, chromium, rsvg-convert.
# Run from the project root: bash docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
socket="axx-docs-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true' EXIT

tmux -L "$socket" new-session -d -s docs -x 120 -y 32 "env -u CI npx axx run pipelines/quickstart.yaml --cache $work/cache; sleep 3600"
until tmux -L "$socket" capture-pane -p -t docs | grep -q '▶ search .*eval [4-9][0-9]%'; do sleep 0.5; done
tmux -L "$socket" capture-pane -e -p -t docs > "$work/dashboard.ansi"
until tmux -L "$socket" capture-pane -p -t docs | grep -q 'run passed'; do sleep 1; done

# SGR colours (16, 256 and truecolour foreground, bold, dim) → HTML spans in a dark <pre>.
node - "$work/dashboard.ansi" > "$work/dashboard.html" <<'EOF'
const text = require('node:fs').readFileSync(process.argv[2], 'utf8').replace(/\n+$/, '');
const base = ['#1e1e1e', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#dcdfe4'];
const bright = ['#5c6370', '#ff7b86', '#b5e890', '#ffd68a', '#7cc4ff', '#de94f0', '#6fd6e2', '#ffffff'];
const hex = (r, g, b) => '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
const c256 = (n) => {
  if (n < 16) return n < 8 ? base[n] : bright[n - 8];
  if (n >= 232) return hex(...Array(3).fill(8 + (n - 232) * 10));
  const level = (v) => (v === 0 ? 0 : 55 + v * 40);
  n -= 16;
  return hex(level(Math.floor(n / 36)), level(Math.floor(n / 6) % 6), level(n % 6));
};
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
let fg = null, bold = false, dim = false, html = '';
for (const [i, part] of text.split(/\x1b\[([0-9;]*)m/).entries()) {
  if (i % 2 === 0) {
    const style = [fg && `color:${fg}`, bold && 'font-weight:bold', dim && 'opacity:0.6'].filter(Boolean).join(';');
    html += style && part ? `<span style="${style}">${escape(part)}</span>` : escape(part);
    continue;
  }
  const codes = part === '' ? [0] : part.split(';').map(Number);
  for (let j = 0; j < codes.length; j++) {
    const c = codes[j];
    if (c === 0) [fg, bold, dim] = [null, false, false];
    else if (c === 1) bold = true;
    else if (c === 2) dim = true;
    else if (c === 22) bold = dim = false;
    else if (c === 39) fg = null;
    else if (c >= 30 && c <= 37) fg = base[c - 30];
    else if (c >= 90 && c <= 97) fg = bright[c - 90];
    else if (c === 38 && codes[j + 1] === 5) (fg = c256(codes[j + 2])), (j += 2);
    else if (c === 38 && codes[j + 1] === 2) (fg = hex(codes[j + 2], codes[j + 3], codes[j + 4])), (j += 4);
  }
}
console.log('<!doctype html><meta charset="utf-8"><style>body{margin:0;background:#1e1e1e}pre{margin:0;padding:14px 16px;' +
  'color:#dcdfe4;font:14px/1.3 "DejaVu Sans Mono",monospace}</style><pre>' + html + '</pre>');
EOF

shot() { /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$2" --screenshot="$3" "file://$1" 2>/dev/null; }
shot "$work/dashboard.html" 1000,490 docs/dashboard.png
npx axx export report.html "$work/report.html" --cache "$work/cache"
npx axx export search.plot "$work/pareto.svg" --cache "$work/cache"
shot "$work/report.html" 1000,620 docs/report.png
rsvg-convert -w 900 -b white "$work/pareto.svg" -o docs/pareto.png
echo "docs/dashboard.png docs/report.png docs/pareto.png written (cache: $work/cache)"
