import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * Headless Chromium driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: JSON messages ending
 * in NUL, written to its fd 3, read from its fd 4), the transport puppeteer uses; no WebSocket and no npm package.
 */
export const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | undefined {
  return CHROMIUM_CANDIDATES.find((p): p is string => typeof p === 'string' && existsSync(p));
}

type Message = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

export class Browser {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];
  private buffer = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined && this.pending.has(message.id)) {
          const waiter = this.pending.get(message.id)!;
          this.pending.delete(message.id);
          if (message.error) waiter.reject(new Error(message.error.message));
          else waiter.resolve(message.result);
        } else for (const listener of this.listeners) listener(message);
      }
    });
  }

  static async launch(executable: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'waymark-chromium-'));
    const child = spawn(executable, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    });
    const browser = new Browser(child, profile);
    await browser.send('Browser.getVersion');
    return browser;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = ++this.nextId;
    const done = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return done;
  }

  /** The next event of this name (in this session), or rejects after `ms` real milliseconds. */
  once(method: string, sessionId?: string, ms = 20_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${ms} ms`)), ms);
      const listener = (m: Message) => {
        if (m.method !== method || (sessionId && m.sessionId !== sessionId)) return;
        clearTimeout(timer);
        this.listeners.splice(this.listeners.indexOf(listener), 1);
        resolve(m.params);
      };
      this.listeners.push(listener);
    });
  }

  on(listener: (m: Message) => void): void {
    this.listeners.push(listener);
  }

  /** Opens a page at `url`, waits for its load event; evaluate runs an expression in it (its value returned). */
  async open(url: string): Promise<{ evaluate: <T>(expression: string) => Promise<T>; requests: string[] }> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const requests: string[] = [];
    this.on((m) => {
      if (m.sessionId === sessionId && m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url);
    });
    await this.send('Network.enable', {}, sessionId);
    await this.send('Page.enable', {}, sessionId);
    const loaded = this.once('Page.loadEventFired', sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return {
      requests,
      evaluate: async <T>(expression: string) => {
        const out = await this.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
        if (out.exceptionDetails) throw new Error(`page error: ${JSON.stringify(out.exceptionDetails)}`);
        return out.result.value as T;
      },
    };
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    await exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}
