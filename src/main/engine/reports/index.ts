/**
 * `reports.export` / `facet report`: a case report of a pair or a subject as HTML or PDF. The
 * export itself is audited ('report.export', with the report's SHA-256); reports leave those
 * entries out, so exporting again from the same catalog state gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ParsedReq, Res } from '../../../shared/contract';
import { collectPairReport, collectSubjectReport, EXPORT_ACTION, type ReportData, type ReportDeps } from './collect';
import { renderHtml } from './html';
import { renderPdf } from './pdf';

export { collectPairReport, collectSubjectReport, type ReportData, type ReportDeps } from './collect';
export { renderHtml } from './html';
export { renderPdf } from './pdf';

export async function buildReport(deps: ReportDeps, req: Pick<ParsedReq<'reports.export'>, 'pair' | 'subject' | 'examiner'>): Promise<ReportData> {
  if (req.pair) return collectPairReport(deps, req.pair, req.examiner);
  return collectSubjectReport(deps, req.subject as string, req.examiner);
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

export async function exportReport(deps: ReportDeps, req: ParsedReq<'reports.export'>, actor: string): Promise<Res<'reports.export'>> {
  const data = await buildReport(deps, req);
  const bytes = req.format === 'html' ? Buffer.from(renderHtml(data), 'utf8') : await renderPdf(data);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const stem = req.pair ? `facet-pair-${req.pair.a.slice(0, 8)}-${req.pair.b.slice(0, 8)}` : `facet-subject-${safeName(req.subject as string)}`;
  const fileName = `${stem}.${req.format}`;
  if (req.outFile) {
    await mkdir(path.dirname(req.outFile), { recursive: true });
    await writeFile(req.outFile, bytes);
  }
  deps.catalog.audit.append(actor, EXPORT_ACTION, {
    ...(req.pair ? { pair: [req.pair.a, req.pair.b] } : { subject: req.subject }),
    format: req.format,
    ...(req.examiner !== undefined ? { examiner: req.examiner } : {}),
    reportSha256: sha256,
    asOf: data.asOf,
  });
  return {
    format: req.format,
    fileName,
    mediaType: req.format === 'html' ? 'text/html' : 'application/pdf',
    sha256,
    bytes: bytes.length,
    content: req.format === 'html' ? bytes.toString('utf8') : bytes.toString('base64'),
    encoding: req.format === 'html' ? 'utf8' : 'base64',
    file: req.outFile ?? null,
  };
}
