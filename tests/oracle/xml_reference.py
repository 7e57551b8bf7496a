#!/usr/bin/env python3
"""Reference values for GPX and TCX files, computed independently of the C++
decoders (standard library only: xml.etree, math, gzip).

The unit tests in tests/unit/formats/{gpx,tcx}_decoder_test.cpp,
gzip_test.cpp and cross_format_test.cpp take their expected values from this
script's output. It implements the rules of
../shared/docs/activity-summary.md directly from the contract text:

GPX: track points are <trk>/<trkseg>/<trkpt>; start/elapsed from the first and
last *timed* point in file order; distance = haversine (R = 6371000 m) between
consecutive positioned points of the same <trkseg>; hr / power are the first
leaf element (any depth below the trkpt, any namespace) named hr|heartrate /
power|watts|PowerInWatts; sport = first non-empty <trk>/<type>.

TCX: Activity elements under Activities (or MultiSportSession/FirstSport/
NextSport); timer/distance = sums over laps; start = first Activity/Id, else
first Lap/@StartTime, else first trackpoint time; elapsed = sum over
activities of (last trackpoint time - Activity/Id); avg_hr = laps'
AverageHeartRateBpm weighted by TotalTimeSeconds (a single lap: its value);
max_hr = max of laps' MaximumHeartRateBpm; avg_power = laps' LX/AvgWatts
(weighted likewise) if any lap has it, else mean of trackpoints' Watts.
Courses: record counts, first/last position from the track points, and the
number of Course/Lap elements; no activity values. Workouts: laps = 0, nothing
else.

Usage: xml_reference.py FILE...   (prints one JSON object per file)
"""

import gzip
import json
import math
import re
import sys
import xml.etree.ElementTree as ET

R = 6371000.0
DEG = math.pi / 180.0

TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def days_from_civil(y, m, d):
    # Proleptic Gregorian day count since 1970-01-01 (same calendar as ISO-8601).
    import datetime

    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


def parse_time(text):
    if text is None:
        return None
    m = TIME_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    secs = days_from_civil(int(y), int(mo), int(d)) * 86400
    secs += int(h or 0) * 3600 + int(mi or 0) * 60 + int(s or 0)
    off = 0
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0))
    value = float(secs - off)
    if frac:
        value += float("0." + frac)
    return value


def iso(t):
    if t is None:
        return None
    whole = math.floor(t)
    ms = round((t - whole) * 1000)
    if ms >= 1000:
        whole += 1
        ms -= 1000
    import datetime

    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(whole))
    out = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        out += ("." + "%03d" % ms).rstrip("0")
    return out + "Z"


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(el, name):
    return [c for c in el if local(c.tag) == name]


def child(el, name):
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def number(text):
    if text is None:
        return None
    t = text.strip()
    if t.startswith("+"):
        t = t[1:]
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return None
    v = float(t)
    return v if math.isfinite(v) else None


def haversine(a, b):
    p1, p2 = a[0] * DEG, b[0] * DEG
    dp = (b[0] - a[0]) * DEG
    dl = (b[1] - a[1]) * DEG
    s1, s2 = math.sin(dp / 2), math.sin(dl / 2)
    h = s1 * s1 + math.cos(p1) * math.cos(p2) * s2 * s2
    return 2 * R * math.asin(math.sqrt(min(1.0, h)))


def first_leaf(el, names):
    """First leaf element below `el` (depth first, document order) named in `names`."""
    for c in el.iter():
        if c is el or len(c) > 0:
            continue
        if local(c.tag) in names:
            return c
    return None


def stats(values):
    if not values:
        return None, None
    return sum(values) / len(values), max(values)


def gpx(root, out):
    records = with_pos = 0
    first = last = None
    times = []
    dist = 0.0
    hrs, powers = [], []
    sport = None
    has_rte = any(local(c.tag) == "rte" for c in root)
    for trk in children(root, "trk"):
        for c in trk:
            if local(c.tag) == "type" and sport is None and (c.text or "").strip():
                sport = c.text.strip()
        for seg in children(trk, "trkseg"):
            prev = None
            for pt in children(seg, "trkpt"):
                records += 1
                lat, lon = number(pt.get("lat")), number(pt.get("lon"))
                if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
                    with_pos += 1
                    if first is None:
                        first = (lat, lon)
                    last = (lat, lon)
                    if prev is not None:
                        dist += haversine(prev, (lat, lon))
                    prev = (lat, lon)
                t = child(pt, "time")
                tv = parse_time(t.text) if t is not None else None
                if tv is not None:
                    times.append(tv)
                h = first_leaf(pt, {"hr", "heartrate"})
                if h is not None and number(h.text) is not None:
                    hrs.append(number(h.text))
                p = first_leaf(pt, {"power", "watts", "PowerInWatts"})
                if p is not None and number(p.text) is not None:
                    powers.append(number(p.text))
    avg_hr, max_hr = stats(hrs)
    avg_p, _ = stats(powers)
    out.update(
        sport=sport,
        start_time=iso(times[0]) if times else None,
        start_unix=times[0] if times else None,
        total_elapsed_time=(times[-1] - times[0]) if times else None,
        total_timer_time=None,
        total_distance=dist if records else None,
        records=records,
        records_with_position=with_pos,
        laps=None,
        first_lat=first[0] if first else None,
        first_lon=first[1] if first else None,
        last_lat=last[0] if last else None,
        last_lon=last[1] if last else None,
        avg_hr=avg_hr,
        max_hr=max_hr,
        avg_power=avg_p,
        rec_avg_hr=avg_hr,
        rec_max_hr=max_hr,
        rec_avg_power=avg_p,
        is_activity=records > 0,
        route=has_rte,
    )


def weighted(pairs):
    """pairs of (value, weight); a single value is returned as is."""
    if not pairs:
        return None
    if len(pairs) == 1:
        return pairs[0][0]
    w = sum(p[1] for p in pairs)
    if w > 0:
        return sum(v * t for v, t in pairs) / w
    return sum(p[0] for p in pairs) / len(pairs)


def tcx_activities(el):
    for c in el:
        n = local(c.tag)
        if n == "Activity":
            yield c
        elif n in ("MultiSportSession", "FirstSport", "NextSport"):
            yield from tcx_activities(c)


def bpm(el):
    if el is None:
        return None
    v = child(el, "Value")
    return number(v.text) if v is not None else None


def tcx(root, out):
    acts = []
    for a in children(root, "Activities"):
        acts.extend(tcx_activities(a))
    points = []  # trackpoint elements in document order
    if not acts:
        courses = child(root, "Courses")
        laps = 0
        if courses is not None:
            for c in children(courses, "Course"):
                laps += len(children(c, "Lap"))
                for t in children(c, "Track"):
                    points.extend(children(t, "Trackpoint"))
        positioned = [p for p in (position(tp) for tp in points) if p is not None]
        out.update(
            sport=None, start_time=None, total_elapsed_time=None, total_timer_time=None,
            total_distance=None, laps=laps, records=len(points),
            records_with_position=len(positioned),
            first_lat=positioned[0][0] if positioned else None,
            first_lon=positioned[0][1] if positioned else None,
            last_lat=positioned[-1][0] if positioned else None,
            last_lon=positioned[-1][1] if positioned else None,
            avg_hr=None, max_hr=None, avg_power=None, rec_avg_hr=None, rec_max_hr=None,
            rec_avg_power=None, is_activity=False,
            kind="course" if courses is not None else ("workout" if child(root, "Workouts") is not None else "none"),
        )
        return
    sport = None
    laps = 0
    timer = dist = None
    first_id = first_lap = first_pt = None
    elapsed = None
    lap_hr, lap_pw = [], []
    max_hr = None
    for act in acts:
        if sport is None and act.get("Sport") is not None:
            sport = act.get("Sport")
        idel = child(act, "Id")
        idt = parse_time(idel.text) if idel is not None else None
        if first_id is None and idt is not None:
            first_id = idt
        act_lap = act_first_pt = act_last_pt = None
        for lap in children(act, "Lap"):
            laps += 1
            st = parse_time(lap.get("StartTime"))
            if st is not None:
                first_lap = first_lap if first_lap is not None else st
                act_lap = act_lap if act_lap is not None else st
            tt = child(lap, "TotalTimeSeconds")
            tv = number(tt.text) if tt is not None else None
            if tv is not None:
                timer = (timer or 0.0) + tv
            dm = child(lap, "DistanceMeters")
            dv = number(dm.text) if dm is not None else None
            if dv is not None:
                dist = (dist or 0.0) + dv
            mh = bpm(child(lap, "MaximumHeartRateBpm"))
            if mh is not None:
                max_hr = mh if max_hr is None else max(max_hr, mh)
            ah = bpm(child(lap, "AverageHeartRateBpm"))
            if ah is not None:
                lap_hr.append((ah, tv or 0.0))
            ext = child(lap, "Extensions")
            if ext is not None:
                w = first_leaf(ext, {"AvgWatts"})
                if w is not None and number(w.text) is not None:
                    lap_pw.append((number(w.text), tv or 0.0))
            for trk in children(lap, "Track"):
                for tp in children(trk, "Trackpoint"):
                    points.append(tp)
                    te = child(tp, "Time")
                    t = parse_time(te.text) if te is not None else None
                    if t is not None:
                        first_pt = first_pt if first_pt is not None else t
                        act_first_pt = act_first_pt if act_first_pt is not None else t
                        act_last_pt = t
        start = idt if idt is not None else (act_lap if act_lap is not None else act_first_pt)
        if start is not None and act_last_pt is not None:
            elapsed = (elapsed or 0.0) + (act_last_pt - start)
    positions = [position(p) for p in points]
    positioned = [p for p in positions if p is not None]
    hrs, watts = [], []
    for tp in points:
        h = bpm(child(tp, "HeartRateBpm"))
        if h is not None:
            hrs.append(h)
        ext = child(tp, "Extensions")
        if ext is not None:
            w = first_leaf(ext, {"Watts"})
            if w is not None and number(w.text) is not None:
                watts.append(number(w.text))
    rec_avg_hr, rec_max_hr = stats(hrs)
    rec_avg_power, _ = stats(watts)
    start = first_id if first_id is not None else (first_lap if first_lap is not None else first_pt)
    out.update(
        sport=sport,
        start_time=iso(start),
        start_unix=start,
        total_elapsed_time=elapsed,
        total_timer_time=timer,
        total_distance=dist,
        records=len(points),
        records_with_position=len(positioned),
        laps=laps,
        first_lat=positioned[0][0] if positioned else None,
        first_lon=positioned[0][1] if positioned else None,
        last_lat=positioned[-1][0] if positioned else None,
        last_lon=positioned[-1][1] if positioned else None,
        avg_hr=weighted(lap_hr),
        max_hr=max_hr,
        avg_power=weighted(lap_pw) if lap_pw else rec_avg_power,
        rec_avg_hr=rec_avg_hr,
        rec_max_hr=rec_max_hr,
        rec_avg_power=rec_avg_power,
        is_activity=True,
        activities=len(acts),
    )


def position(tp):
    pos = child(tp, "Position")
    if pos is None:
        return None
    la, lo = child(pos, "LatitudeDegrees"), child(pos, "LongitudeDegrees")
    if la is None or lo is None:
        return None
    lat, lon = number(la.text), number(lo.text)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return (lat, lon)


def summarise(path):
    data = open(path, "rb").read()
    out = {"file": path, "bytes": len(data)}
    gz = data[:2] == b"\x1f\x8b"
    if gz:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError) as e:
            out.update(ok=False, error="gzip: %s" % e)
            return out
    # The contract tolerates a BOM and whitespace before the XML declaration;
    # expat does not, so strip them here.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.lstrip(b" \t\r\n")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        line, col = e.position
        out.update(ok=False, error=str(e), error_line=line, error_column=col + 1)
        return out
    kind = local(root.tag)
    if kind == "gpx":
        out["format"] = "gpx.gz" if gz else "gpx"
        gpx(root, out)
    elif kind == "TrainingCenterDatabase":
        out["format"] = "tcx.gz" if gz else "tcx"
        tcx(root, out)
    else:
        out.update(ok=False, error="root element %s" % kind)
        return out
    out["ok"] = True
    return out


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(json.dumps(summarise(p)))
