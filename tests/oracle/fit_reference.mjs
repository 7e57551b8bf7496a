// Reference values for FIT corpus files, computed with Garmin's JavaScript FIT
// SDK (@garmin/fitsdk on the npm registry) so that the expected values in
// tests/unit/formats/fit_*_test.cpp do not come from the decoder under test.
//
// Dev tool, not run in CI. Usage (outside the repo):
//   mkdir -p ~/fitoracle && cd ~/fitoracle && npm install @garmin/fitsdk fit-file-parser
//   node /path/to/repo/tests/oracle/fit_reference.mjs FILE_OR_DIR...   (run from ~/fitoracle:
//   the packages are resolved from the current directory)
//
// Prints one JSON object per FIT file with the FIT fields of the contract in
// ../shared/docs/activity-summary.md.
//
// The SDK (21.217) cannot decode compressed-timestamp record headers, and it
// throws on some accumulated fields (a TypeError in #setAccumulatedField, seen
// on Garmin FR255 triathlon files). For those files only, the values come from
// the strict raw message reader of jimmykane's fit-file-parser (also on npm:
// `npm install fit-file-parser`), whose raw fields are turned into numbers
// here with the profile's field numbers, base types, invalid values and scales;
// such lines carry "source": "fit-file-parser". Files the SDK rejects for
// integrity reasons (CRC, truncation, not FIT) print "sdk_error".

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(path.join(process.cwd(), 'noop.js'));
const { Decoder, Stream, Profile } = require('@garmin/fitsdk');
let ffp = null;
try {
    ffp = await import(require.resolve('fit-file-parser'));
} catch {
    // optional: only needed for the files the SDK cannot decode
}

// Raw messages from fit-file-parser: its strict reader, or (for protocol
// version 0 files, which that reader refuses) the raw messages its parser retains.
async function rawMessages(buf) {
    try {
        return ffp.readFitMessages(buf).messages.map((m) => ({
            num: m.globalMessageNumber, littleEndian: m.littleEndian, compressedTimestamp: m.compressedTimestamp,
            fields: m.fields.map((f) => ({ fieldNumber: f.fieldNumber, baseType: f.baseType, bytes: f.bytes })),
        }));
    } catch (e) {
        if (e.code !== 'invalid_header') throw e;
    }
    const FitParser = typeof ffp.default === 'function' ? ffp.default : ffp.default.default;
    const parser = new FitParser({ force: false, mode: 'list', includeRawMessages: true });
    const parsed = await parser.parseAsync(buf);
    return parsed.raw_messages.map((m) => ({
        num: m.global_message_number, littleEndian: m.little_endian, compressedTimestamp: m.compressed_timestamp,
        fields: m.fields.map((f) => ({ fieldNumber: f.field_definition_number, baseType: f.base_type, bytes: f.raw_value })),
    }));
}

const FIT_EPOCH_UNIX = 631065600;  // 1989-12-31T00:00:00Z
const SEMI_TO_DEG = 180 / 2 ** 31;

// The JS SDK spells profile names in camelCase; the profile itself uses snake_case.
const snake = (s) => (s === 'rGTCycling' ? 'RGT_cycling' : s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
const enumName = (type, v) => (v == null ? null : Profile.types[type][v] != null ? snake(Profile.types[type][v]) : v);

// Counts the FIT files of a chain from the declared header/data sizes.
function chainCount(buf) {
    let pos = 0, n = 0;
    while (pos + 12 <= buf.length && buf.toString('latin1', pos + 8, pos + 12) === '.FIT') {
        const hs = buf[pos], ds = buf.readUInt32LE(pos + 4);
        n++;
        pos += hs + ds + 2;
    }
    return n;
}

// Profile facts for the fields the summary uses: field number -> [key, scale].
const RAW_FIELDS = {
    0: { 0: ['type', 1], 1: ['manufacturer', 1], 2: ['product', 1], 4: ['timeCreated', 1] },
    18: { 253: ['timestamp', 1], 2: ['startTime', 1], 5: ['sport', 1], 6: ['subSport', 1], 7: ['totalElapsedTime', 1000],
          8: ['totalTimerTime', 1000], 9: ['totalDistance', 100], 16: ['avgHeartRate', 1], 17: ['maxHeartRate', 1],
          20: ['avgPower', 1] },
    20: { 253: ['timestamp', 1], 0: ['positionLat', 1], 1: ['positionLong', 1], 3: ['heartRate', 1], 7: ['power', 1] },
};
// base type id -> [size, signed, invalid]
const BASE = { 0: [1, false, 0xff], 1: [1, true, 0x7f], 2: [1, false, 0xff], 3: [2, true, 0x7fff], 4: [2, false, 0xffff],
    5: [4, true, 0x7fffffff], 6: [4, false, 0xffffffff], 10: [1, false, 0], 11: [2, false, 0], 12: [4, false, 0] };

function fromRaw(raw) {
    const m = {};
    const spec = RAW_FIELDS[raw.num] ?? {};
    for (const f of raw.fields) {
        const s = spec[f.fieldNumber];
        const b = BASE[f.baseType & 0x1f];
        if (!s || !b || f.bytes.length % b[0] !== 0 || m[s[0]] !== undefined) continue;
        let v = 0;
        for (let i = 0; i < b[0]; i++) v = v * 256 + f.bytes[raw.littleEndian ? b[0] - 1 - i : i];
        if (v === b[2]) continue;
        if (b[1] && v >= 2 ** (8 * b[0] - 1)) v -= 2 ** (8 * b[0]);
        m[s[0]] = v / s[1];
    }
    if (raw.num === 20 && raw.compressedTimestamp != null) m.timestamp = raw.compressedTimestamp;
    return m;
}

async function reference(file) {
    let buf = fs.readFileSync(file);
    if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
    const out = { file: path.basename(file) };
    let counts = {};
    const sessions = [];
    let fileId = null, records = 0, withPos = 0, laps = 0, firstRecTs = null;
    let first = null, last = null, hrSum = 0, hrN = 0, hrMax = null, pwSum = 0, pwN = 0;

    const visit = (num, m) => {
        const name = Profile.messages[num] ? snake(Profile.messages[num].name) : `mesg_${num}`;
        counts[name] = (counts[name] ?? 0) + 1;
        if (num === 0 && fileId === null) fileId = m;
        if (num === 18) sessions.push(m);
        if (num === 19) laps++;
        if (num === 20) {
            records++;
            if (firstRecTs === null && m.timestamp != null) firstRecTs = m.timestamp;
            if (m.positionLat != null && m.positionLong != null) {
                withPos++;
                const p = [m.positionLat * SEMI_TO_DEG, m.positionLong * SEMI_TO_DEG];
                if (first === null) first = p;
                last = p;
            }
            if (m.heartRate != null) { hrSum += m.heartRate; hrN++; hrMax = hrMax === null ? m.heartRate : Math.max(hrMax, m.heartRate); }
            if (m.power != null) { pwSum += m.power; pwN++; }
        }
    };

    const stream = Stream.fromBuffer(buf);
    const decoder = new Decoder(stream);
    const { errors } = decoder.read({
        mergeHeartRates: false,
        expandComponents: false,  // no summary field comes from a component; the SDK crashes expanding some triathlon files
        convertTypesToStrings: false,
        convertDateTimesToDates: false,
        includeUnknownData: true,
        mesgListener: (num, m) => visit(num, m),
    });
    if (errors.length) {
        const message = String(errors[0].message ?? errors[0]);
        const integrity = /CRC|end of stream|not a FIT file|outside the bounds/.test(message);
        if (integrity || ffp === null) {
            out.sdk_error = message;
        } else {
            // Start over from the raw reader (see the header comment).
            counts = {}; sessions.length = 0; fileId = null; records = 0; withPos = 0; laps = 0; firstRecTs = null;
            first = null; last = null; hrSum = 0; hrN = 0; hrMax = null; pwSum = 0; pwN = 0;
            for (const raw of await rawMessages(buf)) visit(raw.num, fromRaw(raw));
            out.source = 'fit-file-parser';
        }
    }

    const sum = (key) => sessions.reduce((acc, s) => (s[key] == null ? acc : (acc ?? 0) + s[key]), null);
    // Timer-time-weighted mean over the sessions that carry the value; plain mean if no weight.
    const weighted = (key) => {
        let num = 0, den = 0, plain = 0, n = 0;
        for (const s of sessions) {
            if (s[key] == null) continue;
            plain += s[key]; n++;
            if (s.totalTimerTime != null && s.totalTimerTime > 0) { num += s[key] * s.totalTimerTime; den += s.totalTimerTime; }
        }
        if (n === 0) return null;
        return den > 0 ? num / den : plain / n;
    };
    const s0 = sessions[0] ?? {};
    let start = s0.startTime ?? null;
    if (sessions.length === 0) start = firstRecTs ?? fileId?.timeCreated ?? null;
    else if (start == null) start = firstRecTs ?? fileId?.timeCreated ?? null;

    Object.assign(out, {
        fit_files_in_chain: chainCount(buf),
        file_type: enumName('file', fileId?.type),
        manufacturer: enumName('manufacturer', fileId?.manufacturer),
        product: fileId?.product ?? null,
        sessions: sessions.length,
        sport: enumName('sport', s0.sport),
        sub_sport: enumName('subSport', s0.subSport),
        start_time: start == null ? null : start + FIT_EPOCH_UNIX,
        total_elapsed_time: sum('totalElapsedTime'),
        total_timer_time: sum('totalTimerTime'),
        total_distance: sum('totalDistance'),
        records,
        records_with_position: withPos,
        laps,
        first_lat: first?.[0] ?? null, first_lon: first?.[1] ?? null,
        last_lat: last?.[0] ?? null, last_lon: last?.[1] ?? null,
        avg_hr: weighted('avgHeartRate'),
        max_hr: sessions.reduce((acc, s) => (s.maxHeartRate == null ? acc : acc === null ? s.maxHeartRate : Math.max(acc, s.maxHeartRate)), null),
        avg_power: weighted('avgPower'),
        rec_avg_hr: hrN ? hrSum / hrN : null,
        rec_max_hr: hrMax,
        rec_avg_power: pwN ? pwSum / pwN : null,
        msg_counts: Object.fromEntries(Object.entries(counts).sort()),
    });
    return out;
}

function walk(p) {
    if (fs.statSync(p).isDirectory()) return fs.readdirSync(p).sort().flatMap((e) => walk(path.join(p, e)));
    return [p];
}

for (const arg of process.argv.slice(2)) {
    for (const f of walk(arg)) {
        try {
            console.log(JSON.stringify(await reference(f)));
        } catch (e) {
            console.log(JSON.stringify({ file: path.basename(f), sdk_error: String(e.message ?? e) }));
        }
    }
}
