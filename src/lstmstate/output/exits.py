"""How a command ends: its exit code, and the one line on stderr that says why.

A user's mistake (a ``ValueError`` from the library, a bad flag) ends in ``error: ...`` and exit
code 2, never a traceback; a full or read-only disk the same; Ctrl-C in one line and 130; SIGTERM
(what kill, systemd, Kubernetes and CI send) is handled as Ctrl-C is, so the command keeps what
finished, and ends in 143. A shell reports a command stopped by signal N as 128 + N.
"""

import _thread
import re
import signal
import sys
import threading
from collections.abc import Callable

import typer

try:  # typer >= 0.20 vendors its own click; its exceptions are not click's
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer on plain click
    from click import exceptions as click_exceptions

from lstmstate.storage.runfolder import Interrupted

# click >= 8.2 raises this for a bare `lstmstate`; older versions print the help themselves.
NO_ARGS_IS_HELP = getattr(click_exceptions, "NoArgsIsHelpError", ())

# A field named in a library's message, `batch_size`: on the command line, --batch-size.
FIELD = re.compile(r"`([a-z][a-z0-9_]*)`")

# The signals that stopped this command.
stopped_by: list[int] = []


def run(command, worded: Callable[[Exception], str] = str) -> None:
    """Run the click ``command`` and exit as above; ``worded`` picks the message of a ``ValueError``
    or a stop (the library's, under the API's rewording), whose fields are shown as flags."""
    stopped_by.clear()
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (an embedding program's): its signals stay its own
        previous = None
    hook, sys.unraisablehook = sys.unraisablehook, _lost(sys.unraisablehook)
    try:
        # Typer turns a KeyboardInterrupt it sees into exit code 130, returned (not raised) here
        # without standalone mode; older versions raise Abort. Either is a stop.
        code = command.main(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            raise KeyboardInterrupt
    except (typer.Abort, KeyboardInterrupt):
        print(f"interrupted{_signal_words()}: stopped before the command finished", file=sys.stderr)
        sys.exit(_stop_code())
    except NO_ARGS_IS_HELP as error:
        print(error.format_message())  # the help text, asked for by giving no arguments
        sys.exit(0)
    except click_exceptions.ClickException as error:
        print(f"error: {error.format_message()}", file=sys.stderr)
        sys.exit(2)
    except Interrupted as error:
        print(f"{as_flags(worded(error))}{_signal_words()}", file=sys.stderr)
        sys.exit(_stop_code())
    except ValueError as error:
        print(f"error: {as_flags(worded(error))}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # the disk, not the request (full, gone, read-only): still one line
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        sys.exit(2)
    finally:
        sys.unraisablehook = hook
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame) -> None:
    """SIGTERM raised as KeyboardInterrupt where the command is, so it keeps what finished and
    writes the report."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is under way: a second must not cut the report short
    stopped_by.append(signum)
    raise KeyboardInterrupt


def as_flags(message: str) -> str:
    """Each `field` of ``message`` as the command line's flag: `batch_size` is --batch-size.

    >>> as_flags("`batch_size` must be at least 1; run `lstmstate report DIR`")
    '--batch-size must be at least 1; run `lstmstate report DIR`'
    """
    return FIELD.sub(lambda match: "--" + match.group(1).replace("_", "-"), message)


def _lost(hook):
    """An unraisable-exception hook that raises a lost stop again.

    A signal's handler runs wherever the interpreter is, and that may be a callback it runs for
    itself (JAX's garbage-collector callback, a ``__del__``), where a KeyboardInterrupt is printed
    and dropped: the command then ran on to the end and exited 0 after a SIGTERM. Raised again a
    moment later from a timer, it lands back in the command's own code.
    """
    def raised_again(unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            threading.Timer(0.05, _thread.interrupt_main).start()
        else:
            hook(unraisable)
    return raised_again


def _signal_words() -> str:
    return f" (by {signal.Signals(stopped_by[0]).name})" if stopped_by else ""


def _stop_code() -> int:
    return 128 + stopped_by[0] if stopped_by else 130
