/**
 * PDFs of reports: headless Chromium prints the report's HTML (playwright-core driving the
 * system's Chromium, never a downloaded browser). The page runs with JavaScript off and every
 * request refused, so the printed report is exactly the self-contained HTML. One print at a
 * time per node (Chromium is heavy on a small server). On a machine without Chromium the PDF is
 * unavailable with a message saying so; HTML and CSV are unaffected.
 */
import { existsSync } from 'node:fs';

export type PdfResult = { ok: true; pdf: Buffer } | { ok: false; error: string };

export interface PdfPrinter {
  /** Why PDFs cannot be printed here, or null when Chromium is present. */
  unavailable(): string | null;
  print(html: string, title: string): Promise<PdfResult>;
}

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking'];

export function createPdfPrinter(chromiumPath: string, timeoutMs = 120_000): PdfPrinter {
  let queue: Promise<unknown> = Promise.resolve();
  const unavailable = () =>
    existsSync(chromiumPath)
      ? null
      : `PDF unavailable: no Chromium at ${chromiumPath} on this central node (install chromium or set reports.chromium_path); HTML and CSV are available`;

  async function printNow(html: string, title: string): Promise<PdfResult> {
    const missing = unavailable();
    if (missing) return { ok: false, error: missing };
    const { chromium } = await import('playwright-core');
    let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
    try {
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: CHROMIUM_FLAGS,
        timeout: timeoutMs,
      });
      const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
      const page = await context.newPage();
      page.setDefaultTimeout(timeoutMs);
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const pdf = await page.pdf({
        format: 'A4',
        printBackground: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: `<div style="font-size:8px;width:100%;text-align:center;color:#666">${title
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')} · <span class="pageNumber"></span>/<span class="totalPages"></span></div>`,
        margin: { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' },
      });
      return { ok: true, pdf };
    } catch (error) {
      return { ok: false, error: `PDF failed: ${(error as Error).message.split('\n')[0]!.slice(0, 300)}` };
    } finally {
      await browser?.close().catch(() => undefined);
    }
  }

  return {
    unavailable,
    print(html, title) {
      const run = queue.then(() => printNow(html, title));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
