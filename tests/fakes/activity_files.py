"""What a platform fake needs to know about an uploaded activity file.

Platforms read start time, sport, duration and distance out of the file they
receive; the fakes do the same, just enough for listing and duplicate checks:
sniffing (FIT / GPX / TCX, maybe gzipped), and a small FIT walk (file_id,
session, first record) or the first timestamps of an XML file.
"""

import datetime
import gzip
import re
import struct
import zlib

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z

# FIT sport / sub_sport -> the platform's activity type words (Strava-style,
# which Intervals.icu also uses).
_FIT_SPORTS = {1: "Run", 2: "Ride", 5: "Swim", 11: "Walk", 17: "Hike", 15: "Rowing", 12: "NordicSki", 4: "Workout"}
_VIRTUAL_SUB_SPORTS = {6, 58}  # indoor_cycling, virtual_activity
_TEXT_SPORTS = {"biking": "Ride", "running": "Run", "cycling": "Ride", "ride": "Ride", "run": "Run",
                "walking": "Walk", "hiking": "Hike", "swimming": "Swim", "virtualride": "VirtualRide"}


class BadFile(Exception):
    """The bytes are not an activity file the platform accepts."""


def gunzip_if_needed(data):
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data), True
        except (OSError, EOFError, zlib.error) as e:
            raise BadFile("corrupt gzip: %s" % e) from e
    return data, False


def sniff(payload):
    """'fit', 'gpx', 'tcx' or None for decompressed bytes."""
    if len(payload) >= 12 and payload[8:12] == b".FIT":
        return "fit"
    head = payload[:4096].decode("utf-8", "replace")
    if re.search(r"<(\w+:)?gpx[\s>]", head):
        return "gpx"
    if re.search(r"<(\w+:)?TrainingCenterDatabase[\s>]", head):
        return "tcx"
    return None


def parse_iso(text):
    text = text.strip().replace("Z", "+00:00")
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def _fit_summary(data):
    header_size = data[0]
    data_size = struct.unpack_from("<I", data, 4)[0]
    end = min(len(data), header_size + data_size)
    pos = header_size
    defs = {}
    out = {}
    while pos < end:
        h = data[pos]
        pos += 1
        if h & 0x80:
            local = (h >> 5) & 3
        elif h & 0x40:
            local = h & 0x0F
            arch = data[pos + 1]
            endian = ">" if arch == 1 else "<"
            msg = struct.unpack_from(endian + "H", data, pos + 2)[0]
            n = data[pos + 4]
            pos += 5
            fields = []
            for i in range(n):
                fields.append((data[pos + 3 * i], data[pos + 3 * i + 1]))
            pos += 3 * n
            dev_size = 0
            if h & 0x20:
                nd = data[pos]
                pos += 1
                dev_size = sum(data[pos + 3 * i + 1] for i in range(nd))
                pos += 3 * nd
            defs[local] = (msg, endian, fields, dev_size)
            continue
        else:
            local = h & 0x0F
        if local not in defs:
            raise BadFile("FIT data message without a definition at byte %d" % (pos - 1))
        msg, endian, fields, dev_size = defs[local]
        values = {}
        for num, size in fields:
            if size in (1, 2, 4):
                fmt = endian + {1: "B", 2: "H", 4: "I"}[size]
                values[num] = struct.unpack_from(fmt, data, pos)[0]
            pos += size
        pos += dev_size
        if msg == 0 and 4 in values and values[4] != 0xFFFFFFFF:
            out.setdefault("time_created", values[4] + FIT_EPOCH)
        elif msg == 20 and 253 in values:
            out.setdefault("first_record", values[253] + FIT_EPOCH)
        elif msg == 18 and "start" not in out:
            if values.get(2, 0xFFFFFFFF) != 0xFFFFFFFF:
                out["start"] = values[2] + FIT_EPOCH
            if values.get(7, 0xFFFFFFFF) != 0xFFFFFFFF:
                out["elapsed"] = values[7] / 1000.0
            if values.get(9, 0xFFFFFFFF) != 0xFFFFFFFF:
                out["distance"] = values[9] / 100.0
            sport = values.get(5)
            if sport is not None:
                kind = _FIT_SPORTS.get(sport, "Workout")
                if kind == "Ride" and values.get(6) in _VIRTUAL_SUB_SPORTS:
                    kind = "VirtualRide"
                out["type"] = kind
    start = out.get("start") or out.get("first_record") or out.get("time_created")
    return {"start": start, "type": out.get("type", "Workout"), "elapsed": out.get("elapsed"),
            "distance": out.get("distance")}


def _xml_summary(text, kind):
    times = re.findall(r"<(?:\w+:)?(?:time|Time|Id)>([^<]+)</", text)
    start = None
    for t in times:
        try:
            start = parse_iso(t)
            break
        except ValueError:
            continue
    sport = None
    if kind == "tcx":
        m = re.search(r'<(?:\w+:)?Activity\s+Sport="([^"]+)"', text)
        sport = m.group(1) if m else None
    else:
        m = re.search(r"<(?:\w+:)?type>([^<]+)</", text)
        sport = m.group(1) if m else None
    kind_word = _TEXT_SPORTS.get((sport or "").lower().replace(" ", ""), "Workout" if sport else "Ride")
    elapsed = None
    if len(times) > 1 and start is not None:
        try:
            elapsed = parse_iso(times[-1]) - start
        except ValueError:
            pass
    return {"start": start, "type": kind_word, "elapsed": elapsed, "distance": None}


def summarize(data):
    """{'format', 'gzipped', 'payload', 'start', 'type', 'elapsed', 'distance'}; raises BadFile."""
    payload, gzipped = gunzip_if_needed(data)
    kind = sniff(payload)
    if kind is None:
        raise BadFile("unsupported file format (expected fit, tcx or gpx)")
    try:
        if kind == "fit":
            info = _fit_summary(payload)
        else:
            info = _xml_summary(payload.decode("utf-8", "replace"), kind)
    except (IndexError, struct.error) as e:
        raise BadFile("cannot read %s file: %s" % (kind, e)) from e
    if info["start"] is None:
        raise BadFile("%s file has no start time" % kind)
    info.update({"format": kind, "gzipped": gzipped, "payload": payload})
    return info
