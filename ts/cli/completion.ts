/**
 * `imgforge completion bash|zsh|fish`: shell completion scripts made from the CLI's own command
 * definitions (commands, options, an option's choices, and what each argument names), so they
 * cannot drift from the CLI. Spec arguments complete to .yaml, .yml and .json files and folders;
 * images to any file and /dev entries.
 */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface CommandInfo {
  name: string;
  description: string;
  /** Every flag, long and short, with --json's styles. */
  flags: string[];
  /** Flags that take a value: the value's choices, or undefined for a path. */
  values: Map<string, readonly string[] | undefined>;
  /** What each positional argument names, in order. */
  args: Array<'spec' | 'image' | 'shell' | 'word'>;
}

function describe(command: Command): CommandInfo {
  const flags: string[] = [];
  const values = new Map<string, readonly string[] | undefined>();
  for (const option of command.options) {
    const names = [option.short, option.long].filter((f): f is string => f !== undefined);
    flags.push(...names);
    if (option.long === '--json') flags.push('--json=pretty', '--json=short');
    // An optional value (--files [partition]) is a partition, not a path: left to the user.
    if (option.required) for (const name of names) values.set(name, option.argChoices);
  }
  flags.push('-h', '--help');
  const args = command.registeredArguments.map((argument) => {
    const name = argument.name();
    return name === 'spec' ? 'spec' : name === 'image' ? 'image' : name === 'shell' ? 'shell' : 'word';
  });
  return { name: command.name(), description: command.description().split('\n')[0], flags, values, args };
}

function bash(commands: CommandInfo[]): string {
  const cases = commands.map((c) => {
    const valueCases = [...c.values].map(([flag, choices]) =>
      choices ? `        ${flag}) COMPREPLY=($(compgen -W "${choices.join(' ')}" -- "$cur")); return ;;` : `        ${flag}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`,
    );
    const kinds = c.args.map((kind) => `"${kind}"`).join(' ');
    return [
      `    ${c.name})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${c.flags.join(' ')}" -- "$cur")); return; fi`,
      `      kinds=(${kinds}) valued=" ${[...c.values.keys()].join(' ')} "`,
      '      ;;',
    ].join('\n');
  });
  return `# imgforge completion for bash. Load it with:  source <(imgforge completion bash)
_imgforge() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" kinds=() valued="" word n=0 i
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} help -h --help -V --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    help) COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')}" -- "$cur")); return ;;
    *) return ;;
  esac
  # Which positional argument is being typed: words after the command that are neither
  # options nor an option's value.
  for ((i = 2; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ "$valued" == *" $word "* ]]; then
      i=$((i + 1))
    elif [[ "$word" != -* ]]; then
      n=$((n + 1))
    fi
  done
  case "\${kinds[n]}" in
    spec) COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -- "$cur" | grep -E '\\.(ya?ml|json)$')) ;;
    image) COMPREPLY=($(compgen -f -- "$cur")) ;;
    shell) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
  esac
}
complete -o filenames -F _imgforge imgforge
`;
}

function zsh(commands: CommandInfo[]): string {
  // zsh runs the bash script through its bash completion layer (bashcompinit).
  return `#compdef imgforge
# imgforge completion for zsh. Load it with:  source <(imgforge completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(commands).split('\n').slice(1).join('\n')}`;
}

function fish(commands: CommandInfo[]): string {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# imgforge completion for fish. Load it with:  imgforge completion fish | source',
    'complete -c imgforge -f',
    ...commands.map((c) => `complete -c imgforge -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`),
  ];
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const flag of c.flags) {
      if (flag.includes('=')) continue;
      const choices = c.values.get(flag);
      const name = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      const value = c.values.has(flag) ? (choices ? ` -x -a ${quote(choices.join(' '))}` : ' -r -F') : '';
      lines.push(`complete -c imgforge ${when} ${name}${value}`);
    }
    // One suffix per line: fish 3's __fish_complete_suffix takes one (then a description).
    if (c.args.includes('spec')) for (const suffix of ['.yaml', '.yml', '.json']) lines.push(`complete -c imgforge ${when} -a '(__fish_complete_suffix ${suffix})'`);
    if (c.args.includes('image')) lines.push(`complete -c imgforge ${when} -F`);
    if (c.args.includes('shell')) lines.push(`complete -c imgforge ${when} -a 'bash zsh fish'`);
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`, from the commands of `cli`. */
export function completionScript(shell: Shell, cli: Command): string {
  const commands = cli.commands.filter((c) => c.name() !== 'help').map(describe);
  return { bash, zsh, fish }[shell](commands);
}
