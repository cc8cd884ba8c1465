/**
 * The case report as one self-contained HTML file: styles inline, images as data: URIs, no script
 * and nothing fetched, so it opens the same anywhere and can be archived as it is.
 */
import type { ReportData, ReportImage } from './collect';
import { auditDetails, calibrationSentence, calibrationsUsed, decisionEvidence, decisionFields, headlineSentence, lrText, num, qualityText } from './text';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const dataUri = (mediaType: string, data: Buffer): string => `data:${mediaType};base64,${data.toString('base64')}`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; max-width: 1000px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; border-bottom: 1px solid #ccd; padding-bottom: 3px; margin-top: 28px; }
.muted { color: #5a6270; } code, .hash { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } th, td { text-align: left; border-bottom: 1px solid #e3e5ea; padding: 4px 6px; vertical-align: top; }
th { background: #f3f4f7; font-weight: 600; } .figures { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; flex: 1 1 280px; } figure img { max-width: 100%; border: 1px solid #ccd; } figcaption { font-size: 12px; }
.thumbs figure { flex: 0 0 170px; } .headline { font-size: 16px; font-weight: 600; background: #eef4ff; padding: 8px 10px; border-radius: 4px; }
dl.decision { display: grid; grid-template-columns: 140px 1fr; gap: 2px 12px; border: 1px solid #dde; padding: 8px; border-radius: 4px; }
dl.decision dt { font-weight: 600; } dl.decision dd { margin: 0; white-space: pre-wrap; }
.audit td { font-size: 12px; }
`;

function imageFigure(im: ReportImage, thumb: boolean): string {
  const faces = im.faces.length
    ? im.faces.map((f) => `face ${f.idx}${f.primary ? ' (primary)' : ''} #${f.id}: box ${f.box.width.toFixed(0)}x${f.box.height.toFixed(0)} px; ${esc(qualityText(f.quality))}`).join('<br>')
    : 'no analysed face';
  return `<figure data-sha256="${im.sha256}"><img src="${dataUri(im.shown.mediaType, im.shown.data)}" alt="${esc(`${im.label}: ${im.originalName}`)}">
<figcaption><strong>${esc(im.label)}</strong> ${esc(im.originalName)}${im.subject ? ` · ${esc(im.subject)}` : ''}<br>
SHA-256 <span class="hash">${im.sha256}</span><br>${esc(im.format)} ${im.width}x${im.height}, ${im.bytes} bytes${im.shown.preview ? ' (shown: a preview; the hash is of the original)' : ''}${thumb ? '' : `<br>${faces}`}</figcaption></figure>`;
}

export function renderHtml(data: ReportData): string {
  const out: string[] = [];
  const push = (s: string): void => void out.push(s);
  push(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(`Facet case report: ${data.title}`)}</title>\n<style>${STYLE}</style>\n</head>\n<body>`);
  push(`<h1>Facet case report: ${esc(data.title)}</h1>`);
  push(`<p class="muted">Catalog state as of ${esc(data.asOf)} (its newest audit entry) · Facet ${esc(data.facetVersion)} · catalog <code>${esc(data.catalogDir)}</code></p>`);
  const hl = headlineSentence(data);
  if (hl) push(`<p class="headline" data-testid="headline">${esc(hl)}</p>`);
  for (const n of data.notes) push(`<p class="muted">${esc(n)}</p>`);

  push(`<h2>Images</h2>`);
  const thumbs = data.kind === 'subject';
  if (thumbs) {
    push(`<table><thead><tr><th>#</th><th>File</th><th>SHA-256</th><th>Size</th><th>Faces</th></tr></thead><tbody>`);
    for (const im of data.images) {
      const f = im.faces.find((x) => x.primary);
      push(`<tr><td>${esc(im.label)}</td><td>${esc(im.originalName)}</td><td class="hash">${im.sha256}</td><td>${im.width}x${im.height}</td><td>${im.faces.length}${f ? `; ${esc(qualityText(f.quality))}` : ''}</td></tr>`);
    }
    push(`</tbody></table>`);
  }
  push(`<div class="figures${thumbs ? ' thumbs' : ''}">${data.images.map((im) => imageFigure(im, thumbs)).join('\n')}</div>`);

  if (data.diff) {
    const d = data.diff;
    push(`<h2>Where the network sees the faces differ</h2>`);
    push(`<div class="figures">${data.overlays.map((o) => `<figure><img src="${dataUri('image/png', o.png)}" alt="${esc(o.caption)}"><figcaption>${esc(o.caption)}</figcaption></figure>`).join('\n')}</div>`);
    push(
      `<p>Pairwise occlusion (paper 003) with <strong>${esc(d.recognizer)}</strong> (model file <span class="hash">${d.modelSha256}</span>): ${d.settings.patch} px patches, stride ${d.settings.stride}, ${esc(d.settings.mode)} occlusion${d.settings.refined ? ', coarse-to-fine' : ''}; cosine distance ${num(d.distance)}; ${d.forwardPasses} forward passes.</p>`,
    );
    push(
      d.theta
        ? `<p class="muted">Colour scale 0 .. Θ = ${num(d.theta.theta, 3)}, calibrated on ${esc(d.theta.pairList)} (SHA-256 <span class="hash">${esc(d.theta.pairListSha256)}</span>; ${d.theta.negatives}+${d.theta.positives} pairs, separation AUC ${d.theta.auc.toFixed(3)}). Full colour: the pair differs there at least as much as different people typically do.</p>`
        : `<p class="muted">No calibrated Θ for this grid: the map is scaled to its own maximum (${num(d.maxDelta, 3)}).</p>`,
    );
    push(`<table><thead><tr><th>Rank</th><th>Facial part</th><th>Total effect</th><th>Share of the map</th></tr></thead><tbody>`);
    for (const p of d.parts) push(`<tr><td>${p.rank}</td><td>${esc(p.part)}</td><td>${p.total.toExponential(3)}</td><td>${(p.share * 100).toFixed(1)} %</td></tr>`);
    push(`</tbody></table>`);
  }

  if (data.verification) {
    const v = data.verification;
    push(`<h2>Scores and likelihood ratios</h2>`);
    const cs = calibrationSentence(data);
    if (cs) push(`<p data-testid="calibration-choice">${esc(cs)}</p>`);
    push(`<table><thead><tr><th>System</th><th>Model file SHA-256</th><th>Score</th><th>Threshold</th><th>Decision</th><th>LR (logistic)</th><th>LR (PAV)</th><th>Verbal scale (logistic)</th></tr></thead><tbody>`);
    for (const s of v.systems) {
      const lg = s.evidence.find((e) => e.method === 'logistic');
      const pav = s.evidence.find((e) => e.method === 'pav');
      push(
        `<tr><td>${esc(s.system)}</td><td class="hash">${s.modelSha256}</td><td>${num(s.score)}</td><td>${num(s.threshold)}</td><td>${esc(s.decision ?? '-')}</td><td>${lg ? lrText(lg.lr) : '-'}</td><td>${pav ? lrText(pav.lr) : '-'}</td><td>${esc(lg?.verbal ?? s.note ?? '-')}</td></tr>`,
      );
    }
    push(`</tbody></table>`);
    const used = calibrationsUsed(data);
    if (used.length) {
      push(`<table><thead><tr><th>Calibration</th><th>Source</th><th>Fitted on</th><th>Pair list SHA-256</th><th>Pairs</th><th>Fitted</th><th>Bounds</th></tr></thead><tbody>`);
      for (const c of used) push(`<tr><td>${esc(c.name)}</td><td>${esc(c.source)}</td><td>${esc(c.pairList)}</td><td class="hash">${esc(c.pairListSha256)}</td><td>${esc(c.pairs)}</td><td>${esc(c.fittedAt)}</td><td>${esc(c.bounds)}</td></tr>`);
      push(`</tbody></table>`);
    }
  }

  if (data.models.length) {
    push(`<h2>Models</h2><table><thead><tr><th>Model</th><th>File SHA-256</th><th>Converted from</th></tr></thead><tbody>`);
    for (const m of data.models) push(`<tr><td>${esc(m.id)}</td><td class="hash">${m.sha256}</td><td>${esc(m.source)}</td></tr>`);
    push(`</tbody></table>`);
  }

  push(`<h2>Examiner decisions</h2>`);
  if (!data.decisions.length) push(`<p class="muted">No decision has been recorded${data.kind === 'pair' ? ' on this pair' : ' on these faces'}.</p>`);
  for (const d of data.decisions) {
    const rows = decisionFields(d);
    const ev = decisionEvidence(d);
    if (ev.length) rows.push(['Scores shown then', ev.join('\n')]);
    push(`<dl class="decision" data-decision="${d.id}">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`);
  }

  push(`<h2>Audit log excerpt</h2>`);
  push(`<p class="muted">Entries of the hash-chained audit log about these portraits, faces, subjects and decisions${data.auditOmitted ? `; the newest ${data.audit.length} are shown (${data.auditOmitted} older left out)` : ''}. Report exports are logged but not listed.</p>`);
  push(`<table class="audit"><thead><tr><th>Seq</th><th>Time</th><th>Actor</th><th>Action</th><th>Details</th><th>Hash</th></tr></thead><tbody>`);
  for (const e of data.audit) {
    push(`<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td><td><code>${esc(auditDetails(e.details))}</code></td><td class="hash">${e.hash.slice(0, 16)}</td></tr>`);
  }
  push(`</tbody></table>`);
  push(`</body>\n</html>\n`);
  return out.join('\n');
}
