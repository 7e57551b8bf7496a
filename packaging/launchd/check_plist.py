#!/usr/bin/env python3
"""Validates launchd job plists without macOS: each file must load with
plistlib, carry the keys launchd requires with the types launchd.plist(5)
documents, use no key launchd does not know (a typo is silently ignored by
launchd), and run `fitbridge serve` under supervision.

    python3 packaging/launchd/check_plist.py packaging/launchd/*.plist
"""

import os
import plistlib
import sys

STR, BOOL, INT, DICT, LIST = str, bool, int, dict, list

# The launchd.plist(5) keys a FitBridge job may use, with their types.
KNOWN_KEYS = {
    "Label": (STR,),
    "Program": (STR,),
    "ProgramArguments": (LIST,),
    "RunAtLoad": (BOOL,),
    "KeepAlive": (BOOL, DICT),
    "ThrottleInterval": (INT,),
    "ExitTimeOut": (INT,),
    "ProcessType": (STR,),
    "Umask": (INT, STR),
    "StandardOutPath": (STR,),
    "StandardErrorPath": (STR,),
    "WorkingDirectory": (STR,),
    "EnvironmentVariables": (DICT,),
    "UserName": (STR,),
    "GroupName": (STR,),
    "LimitLoadToSessionType": (STR, LIST),
    "Disabled": (BOOL,),
}
KEEPALIVE_KEYS = {
    "SuccessfulExit": (BOOL,),
    "Crashed": (BOOL,),
    "NetworkState": (BOOL,),
    "AfterInitialDemand": (BOOL, DICT),
    "PathState": (DICT,),
    "OtherJobEnabled": (DICT,),
}
PROCESS_TYPES = {"Background", "Standard", "Adaptive", "Interactive"}


def type_ok(value, types):
    # bool is an int in Python; launchd keeps <true/> and <integer> apart.
    if isinstance(value, bool):
        return BOOL in types
    return isinstance(value, types)


def check(path):
    errors = []
    try:
        with open(path, "rb") as f:
            job = plistlib.load(f)
    except Exception as e:  # OSError, InvalidFileException, expat errors
        return [f"does not load: {e}"]
    if not isinstance(job, dict):
        return ["top level is not a <dict>"]

    for key, value in job.items():
        if key not in KNOWN_KEYS:
            errors.append(f"unknown key {key!r}")
        elif not type_ok(value, KNOWN_KEYS[key]):
            want = " or ".join(t.__name__ for t in KNOWN_KEYS[key])
            errors.append(f"{key} is a {type(value).__name__}, not {want}")

    label = job.get("Label")
    if not label:
        errors.append("Label is missing")
    elif isinstance(label, str):
        stem = os.path.basename(path).removesuffix(".plist")
        if label != stem:
            errors.append(f"Label {label!r} differs from the file name {stem!r}")

    args = job.get("ProgramArguments")
    if args is None and "Program" not in job:
        errors.append("neither Program nor ProgramArguments")
    if isinstance(args, list):
        if not args or not all(isinstance(a, str) for a in args):
            errors.append("ProgramArguments must be a non-empty array of strings")
        elif not args[0].startswith("/"):
            errors.append("ProgramArguments[0] must be an absolute path")
        else:
            command = " ".join(args)
            if "fitbridge serve" not in command:
                errors.append("the job does not run `fitbridge serve`")
            if args[0] in ("/bin/sh", "/bin/bash", "/bin/zsh") and "exec " not in command:
                errors.append("a shell wrapper must exec the daemon (launchd supervises the PID it started)")

    if job.get("RunAtLoad") is not True:
        errors.append("RunAtLoad must be true")
    keep_alive = job.get("KeepAlive")
    if keep_alive is None or keep_alive is False:
        errors.append("KeepAlive must be true or a dict of conditions")
    elif isinstance(keep_alive, dict):
        for key, value in keep_alive.items():
            if key not in KEEPALIVE_KEYS:
                errors.append(f"unknown KeepAlive key {key!r}")
            elif not type_ok(value, KEEPALIVE_KEYS[key]):
                errors.append(f"KeepAlive.{key} has the wrong type")

    process_type = job.get("ProcessType")
    if isinstance(process_type, str) and process_type not in PROCESS_TYPES:
        errors.append(f"ProcessType {process_type!r} is not one of {sorted(PROCESS_TYPES)}")
    for key in ("StandardOutPath", "StandardErrorPath", "WorkingDirectory"):
        value = job.get(key)
        if isinstance(value, str) and not value.startswith("/"):
            errors.append(f"{key} must be absolute (launchd expands neither ~ nor $HOME)")
    env = job.get("EnvironmentVariables")
    if isinstance(env, dict) and not all(isinstance(v, str) for v in env.values()):
        errors.append("EnvironmentVariables values must be strings")
    umask = job.get("Umask")
    if isinstance(umask, int) and not isinstance(umask, bool) and not 0 <= umask <= 0o777:
        errors.append("Umask out of range")
    return errors


def main(paths):
    if not paths:
        print(f"usage: {sys.argv[0]} FILE.plist...", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        errors = check(path)
        for e in errors:
            print(f"{path}: {e}", file=sys.stderr)
        if errors:
            failed = True
        else:
            print(f"{path}: launchd plist OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
