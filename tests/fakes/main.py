"""Runs one platform fake by hand: `run intervals --port N` prints the base URL
and serves until killed (port 0 picks a free one)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import framework  # noqa: E402
import igpsport  # noqa: E402
import garmin  # noqa: E402
import intervals  # noqa: E402
import mywhoosh  # noqa: E402
import rest_contract  # noqa: E402
import ridewithgps  # noqa: E402
import sporttracks  # noqa: E402
import strava  # noqa: E402
import sweatstack  # noqa: E402
import trainingpeaks  # noqa: E402
import trainitall  # noqa: E402
import zwift  # noqa: E402

PLATFORMS = {"intervals": intervals.Intervals, "rest": rest_contract.example, "rest_custom": rest_contract.custom,
             "strava": strava.Strava, "sweatstack": sweatstack.SweatStack, "trainitall": trainitall.TrainItAll,
             "sporttracks": sporttracks.SportTracks}
PLATFORMS.update({"mywhoosh": mywhoosh.MyWhoosh, "igpsport": igpsport.IGPSport})
PLATFORMS["zwift"] = zwift.Zwift
PLATFORMS["trainingpeaks"] = trainingpeaks.TrainingPeaks
PLATFORMS["garmin"] = garmin.Garmin
PLATFORMS["ridewithgps"] = ridewithgps.RideWithGps


def main():
    parser = argparse.ArgumentParser(prog="tests/fakes/run", description="Run a FitBridge fake provider server.")
    parser.add_argument("platform", choices=sorted(PLATFORMS))
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    args = parser.parse_args()
    framework.serve(PLATFORMS[args.platform](), args.port)


if __name__ == "__main__":
    main()
