/**
 * The case report as a PDF (pdfkit), with the same content as the HTML file. Reproducible: the
 * creation date is the catalog state's time (its newest audit entry), never "now", so the same
 * catalog state gives the same document. The standard PDF fonts are used (nothing to embed or
 * ship); they cover Latin-1, so other characters are transliterated or shown as "?" here; the HTML
 * report keeps every character.
 */
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import type { ReportData, ReportImage } from './collect';
import { auditDetails, calibrationSentence, calibrationsUsed, decisionEvidence, decisionFields, headlineSentence, lrText, num, qualityText } from './text';

const REPLACEMENTS: Record<string, string> = { '–': '-', '—': '-', '‘': "'", '’': "'", '“': '"', '”': '"', '…': '...', 'Θ': 'Theta', '≥': '>=', '≤': '<=', '·': '-', '×': 'x' };

/** Text the standard fonts can show (WinAnsi covers Latin-1). */
export function pdfSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\n\u00a0-\u00ff]/g, (c) => REPLACEMENTS[c] ?? '?');
}

/**
 * PNGs with an alpha channel are split by pdfkit asynchronously, and their objects are then
 * written in whatever order the splits finish: the same report could differ in byte order. Opaque
 * PNGs (and JPEGs) are embedded as they are, so every PNG is flattened first.
 */
async function opaque(data: Buffer, mediaType: string): Promise<Buffer> {
  return mediaType === 'image/png' ? sharp(data).flatten({ background: '#ffffff' }).removeAlpha().png().toBuffer() : data;
}

export async function renderPdf(input: ReportData): Promise<Buffer> {
  const data: ReportData = {
    ...input,
    images: await Promise.all(input.images.map(async (im) => ({ ...im, shown: { ...im.shown, data: await opaque(im.shown.data, im.shown.mediaType) } }))),
    overlays: await Promise.all(input.overlays.map(async (o) => ({ ...o, png: await opaque(o.png, 'image/png') }))),
  };
  const created = new Date(data.asOf);
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: { Title: pdfSafe(`Facet case report: ${data.title}`), Author: 'Facet', Creator: `Facet ${data.facetVersion}`, Producer: 'Facet (pdfkit)', CreationDate: created, ModDate: created },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 96;
  const text = (s: string, size = 10, font = 'Helvetica'): void => void doc.font(font).fontSize(size).text(pdfSafe(s), { width });
  /** A heading stays with at least `keep` points of what follows it. */
  const heading = (s: string, keep = 140): void => {
    if (doc.y > doc.page.height - 48 - keep) doc.addPage();
    doc.moveDown(0.8);
    text(s, 14, 'Helvetica-Bold');
    doc.moveDown(0.3);
  };
  const hash = (label: string, value: string): void => {
    doc.font('Helvetica').fontSize(9).text(pdfSafe(`${label} `), { continued: true });
    doc.font('Courier').fontSize(8).text(value);
  };
  const ensure = (h: number): void => {
    if (doc.y + h > doc.page.height - 48) doc.addPage();
  };
  /** Pictures side by side, each fitted in a square cell with its caption below. */
  const row = (items: { data: Buffer; caption: string }[], size: number): void => {
    const gap = 12;
    const cell = Math.min(size, (width - gap * (items.length - 1)) / items.length);
    ensure(cell + 40);
    const top = doc.y;
    let bottom = top;
    items.forEach((it, i) => {
      const x = doc.page.margins.left + i * (cell + gap);
      doc.image(it.data, x, top, { fit: [cell, cell] });
      doc.font('Helvetica').fontSize(8).text(pdfSafe(it.caption), x, top + cell + 3, { width: cell });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = doc.page.margins.left;
    doc.y = bottom + 6;
  };
  const rows = (items: { data: Buffer; caption: string }[], perRow: number, size: number): void => {
    for (let i = 0; i < items.length; i += perRow) row(items.slice(i, i + perRow), size);
  };

  text(`Facet case report: ${data.title}`, 18, 'Helvetica-Bold');
  text(`Catalog state as of ${data.asOf} (its newest audit entry) - Facet ${data.facetVersion} - catalog ${data.catalogDir}`, 9);
  const hl = headlineSentence(data);
  if (hl) {
    doc.moveDown(0.5);
    text(hl, 12, 'Helvetica-Bold');
  }
  for (const n of data.notes) text(n, 9);

  heading('Images', 300);
  const subject = data.kind === 'subject';
  rows(
    data.images.map((im) => ({ data: im.shown.data, caption: `${im.label}: ${im.originalName}${subject ? '' : `${im.subject ? ` - ${im.subject}` : ''}; ${im.format} ${im.width}x${im.height}`}` })),
    subject ? 4 : 2,
    subject ? 115 : 240,
  );
  // The full hashes (and faces) below the pictures, one line each, so they can be read and copied.
  const details = (im: ReportImage): void => {
    ensure(40);
    text(`${im.label}: ${im.originalName}${im.subject ? ` - ${im.subject}` : ''}; ${im.format} ${im.width}x${im.height}, ${im.bytes} bytes${im.shown.preview ? ' (shown: a preview; the hash is of the original)' : ''}`, 9, 'Helvetica-Bold');
    hash('SHA-256', im.sha256);
    for (const f of im.faces) text(`face ${f.idx}${f.primary ? ' (primary)' : ''} #${f.id}: box ${f.box.width.toFixed(0)}x${f.box.height.toFixed(0)} px; ${qualityText(f.quality)}`, 9);
    if (!im.faces.length) text('no analysed face', 9);
    doc.moveDown(0.3);
  };
  for (const im of data.images) details(im);

  if (data.diff) {
    const d = data.diff;
    heading('Where the network sees the faces differ', 220);
    row(data.overlays.map((o) => ({ data: o.png, caption: o.caption })), 160);
    text(
      `Pairwise occlusion (paper 003) with ${d.recognizer}: ${d.settings.patch} px patches, stride ${d.settings.stride}, ${d.settings.mode} occlusion${d.settings.refined ? ', coarse-to-fine' : ''}; cosine distance ${num(d.distance)}; ${d.forwardPasses} forward passes.`,
    );
    hash('Model file SHA-256', d.modelSha256);
    text(
      d.theta
        ? `Colour scale 0 .. Theta = ${num(d.theta.theta, 3)}, calibrated on ${d.theta.pairList} (${d.theta.negatives}+${d.theta.positives} pairs, separation AUC ${d.theta.auc.toFixed(3)}).`
        : `No calibrated Theta for this grid: the map is scaled to its own maximum (${num(d.maxDelta, 3)}).`,
      9,
    );
    for (const p of d.parts) text(`${p.rank}. ${p.part}: total effect ${p.total.toExponential(3)}, ${(p.share * 100).toFixed(1)} % of the map`, 9);
  }

  if (data.verification) {
    heading('Scores and likelihood ratios');
    const cs = calibrationSentence(data);
    if (cs) text(cs);
    doc.moveDown(0.3);
    for (const s of data.verification.systems) {
      const lg = s.evidence.find((e) => e.method === 'logistic');
      const pav = s.evidence.find((e) => e.method === 'pav');
      ensure(50);
      text(`${s.system}: score ${num(s.score)}, threshold ${num(s.threshold)}, decision ${s.decision ?? '-'}; LR ${lg ? lrText(lg.lr) : '-'} (logistic), ${pav ? lrText(pav.lr) : '-'} (PAV)`, 10, 'Helvetica-Bold');
      text(lg ? `Verbal scale: ${lg.verbal}` : (s.note ?? 'no calibration'), 9);
      hash('Model file SHA-256', s.modelSha256);
      doc.moveDown(0.4);
    }
    for (const c of calibrationsUsed(data)) {
      ensure(40);
      text(`Calibration ${c.name}: ${c.source}, fitted on ${c.pairList} (${c.pairs}) at ${c.fittedAt}; ${c.bounds}`, 9);
      hash('Pair list SHA-256', c.pairListSha256);
    }
  }

  if (data.models.length) {
    heading('Models');
    for (const m of data.models) {
      text(`${m.id} (converted from ${m.source})`, 9);
      hash('File SHA-256', m.sha256);
    }
  }

  heading('Examiner decisions');
  if (!data.decisions.length) text(`No decision has been recorded${data.kind === 'pair' ? ' on this pair' : ' on these faces'}.`, 9);
  for (const d of data.decisions) {
    ensure(80);
    const rows = decisionFields(d);
    const ev = decisionEvidence(d);
    if (ev.length) rows.push(['Scores shown then', ev.join('\n')]);
    for (const [k, v] of rows) {
      doc.font('Helvetica-Bold').fontSize(9).text(pdfSafe(`${k}: `), { continued: true, width });
      doc.font('Helvetica').text(pdfSafe(v), { width });
    }
    doc.moveDown(0.5);
  }

  heading('Audit log excerpt');
  text(
    `Entries of the hash-chained audit log about these portraits, faces, subjects and decisions${data.auditOmitted ? `; the newest ${data.audit.length} are shown (${data.auditOmitted} older left out)` : ''}. Report exports are logged but not listed.`,
    9,
  );
  doc.moveDown(0.3);
  for (const e of data.audit) {
    ensure(30);
    text(`#${e.seq}  ${e.at}  ${e.actor}  ${e.action}  hash ${e.hash.slice(0, 16)}`, 8, 'Helvetica-Bold');
    text(auditDetails(e.details), 7, 'Courier');
  }
  doc.end();
  return done;
}
