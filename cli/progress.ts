// What `mesh` prints while stacks run. At a terminal each stack has one line, rewritten in place as
// its run goes on, so that fourteen stacks running at once stay readable; anywhere else (a pipe, a
// CI log, TERM=dumb) every update is a plain line of its own, in the order it happened.

/** Where the progress goes: a stream, and whether it is a terminal of how many columns. */
export interface ProgressStream {
    readonly isTTY?: boolean;
    readonly columns?: number;
    write(text: string): unknown;
}

/** Whether updates can be drawn in place on `stream`: a terminal that understands cursor movement, and not CI. */
export function drawsInPlace(stream: ProgressStream, env: NodeJS.ProcessEnv): boolean {
    return stream.isTTY === true && !env.CI && env.TERM !== "dumb";
}

/** ANSI: to the start of the line `n` lines up; erase the whole line. */
const up = (n: number) => `\x1b[${n}F`;
const ERASE_LINE = "\x1b[2K";

export class Progress {
    /** Each stack's latest line, in the order the stacks first reported. */
    private readonly stackLines = new Map<string, string>();
    /** The stacks whose run is still going. */
    private readonly running = new Set<string>();
    /** How many stack lines are on the screen below the last notice. */
    private drawn = 0;

    constructor(private readonly stream: ProgressStream, private readonly inPlace: boolean) {}

    /**
     * A stack's latest state, replacing its previous one at a terminal. Once every stack on the
     * screen has said its last line (`finished`), the block stays as it is and what follows goes below.
     */
    stack(name: string, line: string, finished = false): void {
        if (!this.inPlace) {
            this.stream.write(`${line}\n`);
            return;
        }
        this.stackLines.set(name, line);
        if (finished) {
            this.running.delete(name);
        } else {
            this.running.add(name);
        }
        this.redraw([]);
        if (this.running.size === 0) {
            this.stackLines.clear();
            this.drawn = 0;
        }
    }

    /** A line that stays: a notice, a table. At a terminal it goes above the stacks' lines. */
    say(line: string): void {
        if (!this.inPlace) {
            this.stream.write(`${line}\n`);
            return;
        }
        this.redraw(line.split("\n"));
    }

    /** Redraws the block of stack lines under `notices`, each cut to the terminal's width so that none wraps. */
    private redraw(notices: string[]): void {
        // A terminal of unknown size (a pty no one sized says 0 columns) is taken as 80 wide.
        const width = Math.max(20, (this.stream.columns || 80) - 1);
        const fit = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
        const lines = [...notices, ...this.stackLines.values()].map((l) => `${ERASE_LINE}${fit(l)}\n`);
        this.stream.write(`${this.drawn > 0 ? up(this.drawn) : ""}${lines.join("")}`);
        this.drawn = this.stackLines.size;
    }
}
