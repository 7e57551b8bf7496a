"""Synthetic rides for the daemon benchmarks and the chaos run: valid GPX 1.1
and FIT activity files, each with its own start time, so that no two of them
match each other (starts are hours apart, positions differ).

    python3 bench/harness/synth_rides.py --out DIR [--gpx N] [--fit N] [--points P] [--seed S]

writes ride-00000.gpx ... and ride-00000.fit ... into DIR (via a staging
folder beside it and a rename, as a finished recording appears). Used as a
module by scripts/bench-daemon and scripts/chaos. Standard library only.
"""

import argparse
import datetime
import math
import os
import random
import struct
import sys

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
BASE_START = 1577872800  # 2020-01-01T10:00:00Z
SPACING_S = 5 * 3600  # rides are 5 h apart: never within a match tolerance

_CRC_TABLE = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
              0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)


def fit_crc(data, crc=0):
    """The FIT SDK's CRC-16 (nibble table)."""
    for byte in data:
        tmp = _CRC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[byte & 0xF]
        tmp = _CRC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[(byte >> 4) & 0xF]
    return crc


def ride_start(index):
    return BASE_START + index * SPACING_S


def _track(index, points, rng):
    """(unix time, lat, lon, ele m, hr, power, cumulative distance m) per second."""
    lat0 = 45.0 + (index % 97) * 0.01
    lon0 = 7.0 + (index % 89) * 0.01
    heading = rng.uniform(0, 2 * math.pi)
    start = ride_start(index)
    out = []
    lat, lon, dist = lat0, lon0, 0.0
    for i in range(points):
        speed = 7.0 + 2.0 * math.sin(i / 40.0)  # m/s
        if i:
            dist += speed
            lat += speed * math.cos(heading) / 111_320.0
            lon += speed * math.sin(heading) / (111_320.0 * math.cos(math.radians(lat)))
            heading += rng.uniform(-0.05, 0.05)
        out.append((start + i, lat, lon, 200.0 + 30.0 * math.sin(i / 90.0), 120 + (i * 7 + index) % 50,
                    180 + (i * 13 + index) % 90, dist))
    return out


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def gpx_ride(index, points=600, seed=0):
    """A GPX 1.1 ride (one point a second, heart rate and power) as bytes."""
    rng = random.Random(seed * 1_000_003 + index)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
             '<gpx version="1.1" creator="fitbridge-bench" xmlns="http://www.topografix.com/GPX/1/1" '
             'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
             ' <metadata><time>%s</time></metadata>\n'
             ' <trk><name>Synthetic ride %d</name><type>cycling</type><trkseg>\n' % (_iso(ride_start(index)), index)]
    for t, lat, lon, ele, hr, power, _ in _track(index, points, rng):
        parts.append('  <trkpt lat="%.7f" lon="%.7f"><ele>%.1f</ele><time>%s</time><extensions>'
                     '<power>%d</power><gpxtpx:TrackPointExtension><gpxtpx:hr>%d</gpxtpx:hr>'
                     '</gpxtpx:TrackPointExtension></extensions></trkpt>\n' % (lat, lon, ele, _iso(t), power, hr))
    parts.append(' </trkseg></trk>\n</gpx>\n')
    return "".join(parts).encode("utf-8")


def _definition(local, mesg, fields):
    """A FIT definition message: little-endian, fields as (number, size, base type)."""
    out = struct.pack("<BBBHB", 0x40 | local, 0, 0, mesg, len(fields))
    for num, size, base in fields:
        out += struct.pack("<BBB", num, size, base)
    return out


def _semicircles(deg):
    return int(round(deg * (2 ** 31) / 180.0))


def fit_ride(index, points=600, seed=0):
    """A FIT activity file (file_id, records, lap, session, activity) as bytes."""
    rng = random.Random(seed * 1_000_003 + index + 7)
    track = _track(index, points, rng)
    start, end = track[0][0], track[-1][0]
    total_dist = track[-1][6]
    body = b""
    # file_id: type activity (4), manufacturer development (255), serial, time_created
    body += _definition(0, 0, [(0, 1, 0x00), (1, 2, 0x84), (2, 2, 0x84), (3, 4, 0x8C), (4, 4, 0x86)])
    body += struct.pack("<BBHHII", 0, 4, 255, 1, 1000 + index, start - FIT_EPOCH)
    # record: timestamp, lat, long, altitude (scale 5, offset 500), heart rate,
    # distance (scale 100), speed (scale 1000), power
    body += _definition(1, 20, [(253, 4, 0x86), (0, 4, 0x85), (1, 4, 0x85), (2, 2, 0x84), (3, 1, 0x02),
                                (5, 4, 0x86), (6, 2, 0x84), (7, 2, 0x84)])
    prev = None
    for t, lat, lon, ele, hr, power, dist in track:
        speed = 0.0 if prev is None else dist - prev
        prev = dist
        body += struct.pack("<BIiiHBIHH", 1, t - FIT_EPOCH, _semicircles(lat), _semicircles(lon),
                            int(round((ele + 500) * 5)), hr, int(round(dist * 100)), int(round(speed * 1000)), power)
    elapsed_ms = (end - start + 1) * 1000
    # lap: timestamp, start_time, total_elapsed_time, total_timer_time, total_distance, sport
    body += _definition(2, 19, [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (9, 4, 0x86),
                                (25, 1, 0x00)])
    body += struct.pack("<BIIIIIB", 2, end - FIT_EPOCH, start - FIT_EPOCH, elapsed_ms, elapsed_ms,
                        int(round(total_dist * 100)), 2)
    # session: timestamp, start_time, sport cycling (2), sub_sport road (7),
    # total_elapsed_time, total_timer_time, total_distance
    body += _definition(3, 18, [(253, 4, 0x86), (2, 4, 0x86), (5, 1, 0x00), (6, 1, 0x00), (7, 4, 0x86),
                                (8, 4, 0x86), (9, 4, 0x86)])
    body += struct.pack("<BIIBBIII", 3, end - FIT_EPOCH, start - FIT_EPOCH, 2, 7, elapsed_ms, elapsed_ms,
                        int(round(total_dist * 100)))
    # activity: timestamp, num_sessions, type manual, event activity, event_type stop
    body += _definition(4, 34, [(253, 4, 0x86), (1, 2, 0x84), (2, 1, 0x00), (3, 1, 0x00), (4, 1, 0x00)])
    body += struct.pack("<BIHBBB", 4, end - FIT_EPOCH, 1, 0, 26, 1)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    data = header + body
    return data + struct.pack("<H", fit_crc(data))


def ride(index, kind, points=600, seed=0):
    return gpx_ride(index, points, seed) if kind == "gpx" else fit_ride(index, points, seed)


def write_rides(out_dir, specs, points=600, seed=0, staging=None):
    """Writes each (index, kind) of `specs` as ride-<index>.<kind> into a
    staging folder, then renames them all into `out_dir`. Returns
    [(name, bytes)] in the order given."""
    staging = staging or (out_dir.rstrip("/") + ".staging")
    os.makedirs(staging, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for index, kind in specs:
        name = "ride-%05d.%s" % (index, kind)
        data = ride(index, kind, points, seed)
        with open(os.path.join(staging, name), "wb") as f:
            f.write(data)
        written.append((name, data))
    for name, _ in written:
        os.rename(os.path.join(staging, name), os.path.join(out_dir, name))
    return written


def main(argv):
    p = argparse.ArgumentParser(description="Write synthetic GPX and FIT rides into a folder.")
    p.add_argument("--out", required=True, help="folder to fill")
    p.add_argument("--gpx", type=int, default=0, help="number of GPX rides")
    p.add_argument("--fit", type=int, default=0, help="number of FIT rides (indices follow the GPX ones)")
    p.add_argument("--points", type=int, default=600, help="track points per ride (one a second)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    specs = [(i, "gpx") for i in range(a.gpx)] + [(a.gpx + i, "fit") for i in range(a.fit)]
    written = write_rides(a.out, specs, a.points, a.seed)
    print("%d rides, %d bytes, in %s" % (len(written), sum(len(d) for _, d in written), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
