/**
 * `imgforge completion bash|zsh|fish`: scripts made from the CLI's own definitions, run in the
 * real shells: commands, options, an option's choices, spec files for specs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, imgforge } from './helpers/cli';
import { hasTool, tempDir } from './helpers/tools';

function folder(): string {
  const dir = tempDir();
  for (const name of ['a.yaml', 'b.json', 'c.txt']) fs.writeFileSync(path.join(dir, name), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  return dir;
}

/** COMPREPLY for the words typed so far (the last one being completed), in bash. */
function bashComplete(dir: string, words: string[]): string[] {
  const script = `source <("${process.execPath}" "${BIN}" completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _imgforge
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter(Boolean).sort();
}

test('bash completes commands, options, choices, and spec files where a spec goes', (t) => {
  if (!hasTool('bash')) return t.pass('skipped: bash is not installed');
  const dir = folder();
  t.deepEqual(bashComplete(dir, ['imgforge', '']), ['--help', '--version', '-V', '-h', 'build', 'completion', 'help', 'init', 'inspect', 'plan', 'schema', 'verify']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'b']), ['build']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'build', '--c']), ['--compress', '--copy']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'build', '--format', '']), ['android-sparse', 'qcow2', 'raw', 'vhd', 'vhd-dynamic']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'build', '--copy', '']), ['auto', 'copy-file-range', 'read-write']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'init', '--template', '']), ['minimal', 'rpi', 'uefi-ab']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'plan', '--json=']), ['--json=pretty', '--json=short']);
  // A spec: .yaml, .yml and .json files, and folders; an option's value does not count as one.
  t.deepEqual(bashComplete(dir, ['imgforge', 'build', '-o', 'out.img', '']), ['a.yaml', 'b.json', 'sub']);
  // verify's second argument is an image: any file.
  t.deepEqual(bashComplete(dir, ['imgforge', 'verify', 'a.yaml', '']), ['a.yaml', 'b.json', 'c.txt', 'sub']);
  t.deepEqual(bashComplete(dir, ['imgforge', 'completion', '']), ['bash', 'fish', 'zsh']);
});

test('the scripts name every command and option the help shows', (t) => {
  const script = imgforge(['completion', 'bash']).stdout;
  for (const command of ['build', 'plan', 'inspect', 'verify', 'completion']) {
    t.true(script.includes(`    ${command})`), command);
    const help = imgforge([command, '--help']).stdout;
    for (const flag of help.match(/(?<=^\s+(?:-\w, )?)--[a-z-]+/gm) ?? []) t.true(script.includes(flag), `${command} ${flag}`);
  }
});

test('zsh and fish load their scripts; fish completes commands and choices', (t) => {
  for (const shell of ['zsh', 'fish'] as const) {
    if (!hasTool(shell)) {
      t.log(`skipped: ${shell} is not installed`);
      continue;
    }
    const script = imgforge(['completion', shell]);
    t.is(script.status, 0, script.stderr);
    const file = path.join(tempDir(), `imgforge.${shell}`);
    fs.writeFileSync(file, script.stdout);
    const checked = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    t.is(checked.status, 0, `${shell} -n: ${checked.stderr}`);
  }
  if (!hasTool('fish')) return;
  const dir = folder();
  const ask = (line: string) =>
    spawnSync('fish', ['-c', `source (${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} completion fish | psub); complete -C ${JSON.stringify(line)}`], {
      cwd: dir,
      encoding: 'utf8',
    }).stdout;
  t.regex(ask('imgforge '), /^build\tbuild the disk image a spec describes$/m);
  t.deepEqual(ask('imgforge build --copy ').trim().split('\n'), ['auto', 'copy-file-range', 'read-write']);
  t.regex(ask('imgforge plan '), /^a\.yaml$/m);
});

test('completion with no or an unknown shell is a usage error', (t) => {
  t.is(imgforge(['completion']).status, 2);
  const bad = imgforge(['completion', 'tcsh']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^imgforge: command-argument value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish \(see imgforge completion --help\)\n$/);
});
