import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { WriteError } from '../src/errors.js';
import { stagingPath, TEMP_PREFIX, withStagedFile, writeFileAtomic } from '../src/fsx/atomic.js';
import { writeFilesAtomic } from '../src/fsx/batch.js';
import { livePrivateTempDirs, withPrivateTempDir } from '../src/fsx/private-temp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealant-fsx-test-'));
});
after(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function temps(d = dir): Promise<string[]> {
  return (await readdir(d)).filter((n) => n.startsWith(TEMP_PREFIX));
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('writes a new file with mode 0644 by default and leaves no temp file', async () => {
    const p = join(dir, 'new.yaml');
    await writeFileAtomic(p, 'a: 1\n');
    assert.equal(await readFile(p, 'utf8'), 'a: 1\n');
    assert.equal(await mode(p), 0o644);
    assert.deepEqual(await temps(), []);
  });

  it('honours mode 0600 whatever the umask and the old mode', async () => {
    const p = join(dir, 'plain.env');
    await writeFile(p, 'old');
    await chmod(p, 0o644);
    const old = process.umask(0);
    try {
      await writeFileAtomic(p, 'SECRET=x\n', { mode: 0o600 });
    } finally {
      process.umask(old);
    }
    assert.equal(await mode(p), 0o600);
    assert.equal(await readFile(p, 'utf8'), 'SECRET=x\n');
  });

  it('keeps the existing file mode when none is given', async () => {
    const p = join(dir, 'keep.yaml');
    await writeFile(p, 'old');
    await chmod(p, 0o640);
    await writeFileAtomic(p, new TextEncoder().encode('new'));
    assert.equal(await mode(p), 0o640);
    assert.equal(await readFile(p, 'utf8'), 'new');
  });

  it('replaces the target of a symlink and keeps the link', async () => {
    const real = join(dir, 'real.yaml');
    const link = join(dir, 'link.yaml');
    await writeFile(real, 'old');
    await symlink('real.yaml', link);
    await writeFileAtomic(link, 'new');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readFile(real, 'utf8'), 'new');
  });

  it('exclusive: refuses to overwrite, original intact, no temp file', async () => {
    const p = join(dir, 'excl.txt');
    await writeFile(p, 'original');
    await assert.rejects(
      writeFileAtomic(p, 'new', { exclusive: true }),
      (e: unknown) => e instanceof WriteError && e.file === p && /overwrite/.test(e.message),
    );
    assert.equal(await readFile(p, 'utf8'), 'original');
    assert.deepEqual(await temps(), []);
    const q = join(dir, 'excl-new.txt');
    await writeFileAtomic(q, 'fresh', { exclusive: true, mode: 0o600 });
    assert.equal(await readFile(q, 'utf8'), 'fresh');
    assert.equal(await mode(q), 0o600);
    assert.deepEqual(await temps(), []);
  });

  it('a failing rename (target is a directory) leaves the target intact and no temp file', async () => {
    const p = join(dir, 'isdir');
    await mkdir(p);
    await writeFile(join(p, 'inside'), 'keep');
    await assert.rejects(writeFileAtomic(p, 'SECRET-CONTENT'), (e: unknown) => {
      assert.ok(e instanceof WriteError);
      assert.equal(e.code, 'WRITE_FAILED');
      assert.equal(e.exitCode, 3);
      assert.equal(e.file, p);
      assert.ok(!e.message.includes('SECRET-CONTENT'));
      return true;
    });
    assert.equal(await readFile(join(p, 'inside'), 'utf8'), 'keep');
    assert.deepEqual(await temps(), []);
  });

  it('a missing parent directory is a WriteError naming the path', async () => {
    const p = join(dir, 'nope', 'x.yaml');
    await assert.rejects(
      writeFileAtomic(p, 'x'),
      (e: unknown) => e instanceof WriteError && e.file === p && e.message.includes('directory does not exist'),
    );
  });

  it(
    'a write that fails midway (file size limit) leaves the original intact and no temp file',
    { skip: process.platform === 'win32' },
    async () => {
      const d = join(dir, 'fsize');
      await mkdir(d);
      const p = join(d, 'secrets.yaml');
      await writeFile(p, 'original\n');
      // RLIMIT_FSIZE of 4 KiB: Node ignores SIGXFSZ, so the write fails with EFBIG after a partial write.
      const script = `import {writeFileAtomic} from ${JSON.stringify(join(root, 'src/fsx/atomic.ts'))};
      try { await writeFileAtomic(${JSON.stringify(p)}, 'x'.repeat(1 << 20)); console.log('ok'); }
      catch (e) { console.log(e.code + ' ' + e.message); }`;
      const r = spawnSync('bash', ['-c', 'ulimit -f 4 && exec node --import tsx --input-type=module -e "$SCRIPT"'], {
        cwd: root,
        env: { ...process.env, SCRIPT: script },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'WRITE_FAILED cannot write file: file too large');
      assert.equal(await readFile(p, 'utf8'), 'original\n');
      assert.deepEqual(await temps(d), []);
    },
  );

  it('noFollow: a symlink at the path is refused; the link and the file it points to are untouched', async () => {
    const real = join(dir, 'nofollow-real.env');
    const link = join(dir, 'nofollow-link.env');
    await writeFile(real, 'old');
    await symlink('nofollow-real.env', link);
    await assert.rejects(
      writeFileAtomic(link, 'SECRET=x\n', { mode: 0o600, noFollow: true }),
      (e: unknown) => e instanceof WriteError && e.file === link && e.exitCode === 3 && /symbolic link/.test(e.message),
    );
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readFile(real, 'utf8'), 'old');
    const dangling = join(dir, 'nofollow-dangling.env');
    await symlink('nowhere.env', dangling);
    await assert.rejects(
      writeFileAtomic(dangling, 'SECRET=x\n', { noFollow: true }),
      (e: unknown) => e instanceof WriteError && /symbolic link/.test(e.message),
    );
    assert.equal(existsSync(join(dir, 'nowhere.env')), false);
    assert.deepEqual(await temps(), []);
  });

  it('an existing read-only file is refused (root too), unchanged, nothing staged', async () => {
    const p = join(dir, 'ro.yaml');
    await writeFile(p, 'original');
    await chmod(p, 0o444);
    await assert.rejects(
      writeFileAtomic(p, 'new'),
      (e: unknown) => e instanceof WriteError && e.file === p && e.exitCode === 3 && e.message === 'file is read-only',
    );
    assert.equal(await readFile(p, 'utf8'), 'original');
    assert.equal(await mode(p), 0o444);
    assert.deepEqual(await temps(), []);
  });

  it(
    'keeps the owner and group of a replaced file',
    { skip: process.getuid?.() !== 0 ? 'giving a file to another user needs root' : false },
    async () => {
      const p = join(dir, 'owned.yaml');
      await writeFile(p, 'old');
      await chown(p, 4242, 4343);
      await chmod(p, 0o600);
      await writeFileAtomic(p, 'new');
      const st = await stat(p);
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [4242, 4343, 0o600]);
      const q = join(dir, 'owned-batch.yaml');
      await writeFile(q, 'old');
      await chown(q, 4242, 4343);
      await chmod(q, 0o640);
      await writeFilesAtomic([{ file: q, data: 'new' }]);
      const bt = await stat(q);
      assert.deepEqual([bt.uid, bt.gid, bt.mode & 0o7777, await readFile(q, 'utf8')], [4242, 4343, 0o640, 'new']);
    },
  );

  it('stages the file under its own name in a 0700 directory next to it, and removes what dead writers left for it', async () => {
    const d = join(dir, 'stale');
    await mkdir(d);
    const p = join(d, 'dev.env');
    // A dead writer's staging directory (pid beyond pid_max), a legacy temp file, a live
    // writer's directory (our parent's pid), and a dead writer's directory for another target.
    const dead = join(d, `${TEMP_PREFIX}4194305-aaaaaa`);
    await mkdir(dead);
    await writeFile(join(dead, 'dev.env'), 'SECRET=1');
    await writeFile(join(d, `${TEMP_PREFIX}dev.env.0123456789ab`), 'SECRET=1');
    const live = join(d, `${TEMP_PREFIX}${process.ppid}-bbbbbb`);
    await mkdir(live);
    await writeFile(join(live, 'dev.env'), 'SECRET=2');
    const other = join(d, `${TEMP_PREFIX}4194305-cccccc`);
    await mkdir(other);
    await writeFile(join(other, 'prod.env'), 'SECRET=3');
    assert.equal(stagingPath(p), join(d, `${TEMP_PREFIX}${process.pid}-XXXXXX`, 'dev.env'));
    await writeFileAtomic(p, 'SECRET=x\n', { mode: 0o600 });
    assert.deepEqual(
      (await temps(d)).sort(),
      [`${TEMP_PREFIX}${process.ppid}-bbbbbb`, `${TEMP_PREFIX}4194305-cccccc`].sort(),
    );
    assert.equal(await readFile(p, 'utf8'), 'SECRET=x\n');
  });

  it('removes a leftover staging directory carrying our own pid (a crashed run in a container, also PID 1)', async () => {
    const d = join(dir, 'stale-own-pid');
    await mkdir(d);
    const p = join(d, 'dev.env');
    const leftover = join(d, `${TEMP_PREFIX}${process.pid}-dddddd`);
    await mkdir(leftover);
    await writeFile(join(leftover, 'dev.env'), 'SECRET=1');
    // Our pid too, but holding something other than the target: not this write's to judge.
    const foreign = join(d, `${TEMP_PREFIX}${process.pid}-eeeeee`);
    await mkdir(foreign);
    await writeFile(join(foreign, 'prod.env'), 'SECRET=2');
    await writeFileAtomic(p, 'SECRET=x\n');
    assert.deepEqual(await temps(d), [`${TEMP_PREFIX}${process.pid}-eeeeee`]);
    assert.equal(await readFile(p, 'utf8'), 'SECRET=x\n');
  });

  it("leaves this process's own in-flight staging directories for the same target alone", async () => {
    const d = join(dir, 'in-flight');
    await mkdir(d);
    const p = join(d, 'dev.env');
    // A write of the same target while another of ours is staged (nested, as a batch stages).
    await withStagedFile(p, 'SECRET=outer\n', {}, async (outer) => {
      await writeFileAtomic(p, 'SECRET=inner\n');
      assert.equal(await readFile(outer.tmp, 'utf8'), 'SECRET=outer\n');
    });
    assert.equal(await readFile(p, 'utf8'), 'SECRET=inner\n');
    // Many concurrent writes of one target: none loses its staging directory to another.
    const values = Array.from({ length: 20 }, (_, i) => `SECRET=${i}\n`);
    await Promise.all(values.map((v) => writeFileAtomic(p, v)));
    assert.ok(values.includes(await readFile(p, 'utf8')));
    assert.deepEqual(await temps(d), []);
  });

  it('writeFilesAtomic: a read-only file among several: nothing replaced, nothing staged', async () => {
    const d = join(dir, 'batch-ro');
    await mkdir(d);
    const [a, b] = [join(d, 'a.yaml'), join(d, 'b.yaml')];
    await writeFile(a, 'a-old');
    await writeFile(b, 'b-old');
    await chmod(b, 0o444);
    await assert.rejects(
      writeFilesAtomic([
        { file: a, data: 'a-new' },
        { file: b, data: 'b-new' },
      ]),
      (e: unknown) => e instanceof WriteError && e.file === b && e.message === 'file is read-only; no file was changed',
    );
    assert.deepEqual([await readFile(a, 'utf8'), await readFile(b, 'utf8')], ['a-old', 'b-old']);
    assert.deepEqual(await temps(d), []);
  });
});

describe('withPrivateTempDir', () => {
  it('creates a 0700 directory and removes it afterwards', async () => {
    let seen = '';
    const listeners = process.listenerCount('SIGTERM');
    const out = await withPrivateTempDir(async (d) => {
      seen = d;
      assert.equal(await mode(d), 0o700);
      assert.ok(d.startsWith(tmpdir()));
      await writeFile(join(d, 'plain.yaml'), 'secret');
      assert.deepEqual(livePrivateTempDirs(), [d]);
      return 42;
    });
    assert.equal(out, 42);
    assert.equal(existsSync(seen), false);
    assert.deepEqual(livePrivateTempDirs(), []);
    assert.equal(process.listenerCount('SIGTERM'), listeners, 'signal handlers are removed with the last directory');
  });

  it('removes the directory when the callback throws, and rethrows', async () => {
    let seen = '';
    await assert.rejects(
      withPrivateTempDir(async (d) => {
        seen = d;
        await writeFile(join(d, 'x'), 'secret');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(existsSync(seen), false);
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(
      `a process killed with ${signal} inside withPrivateTempDir leaves no directory behind (exit ${code})`,
      { skip: process.platform === 'win32' },
      async () => {
        const script = `import {writeFileSync} from 'node:fs';
        import {withPrivateTempDir} from ${JSON.stringify(join(root, 'src/fsx/private-temp.ts'))};
        await withPrivateTempDir(async (d) => {
          writeFileSync(d + '/plain.yaml', 'secret');
          console.log(d);
          await new Promise((r) => setInterval(() => {}, 1000));
        });`;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const d = await new Promise<string>((resolve, reject) => {
          let buf = '';
          child.stdout.on('data', (c: Buffer) => {
            buf += c.toString();
            if (buf.includes('\n')) resolve(buf.trim());
          });
          child.on('exit', () => reject(new Error('child exited early')));
        });
        assert.ok(existsSync(join(d, 'plain.yaml')));
        const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        child.kill(signal);
        assert.equal(await exit, code);
        assert.equal(existsSync(d), false);
      },
    );
  }
});
