/* global module, setImmediate */
/*
 * Part of the erizoAPI stand-in (see README.md in this directory). The duration buckets erizoAPI reports for
 * its promises and thread pools (erizoAPI/PromiseDurationDistribution.cc 31-43: <=10, <=50, <=100, <=1000 ms
 * and above), which ErizoJS sums into the metrics ROV collects (erizoJSController.js 566-621). Here they
 * measure the stand-in's own asynchronous tasks, not media threads.
 */

"use strict";

class DurationDistribution {
    constructor() {
        this.reset();
    }

    reset() {
        this.buckets = [0, 0, 0, 0, 0];
    }

    add(milliseconds) {
        const limits = [10, 50, 100, 1000];
        let index = limits.findIndex((limit) => milliseconds <= limit);
        if (index === -1) {
            index = limits.length;
        }
        this.buckets[index] += 1;
    }

    toArray() {
        return this.buckets.slice();
    }
}

/**
 * Runs `task` after the current turn (as the real addon queues work on a worker thread) and returns a promise
 * of its result, recording how long it took (WebRtcConnection.cc 72-80: duration = start to resolution,
 * delay = resolution to JavaScript) in `owner` and in its thread pool.
 */
function timed(owner, task) {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        setImmediate(() => {
            Promise.resolve()
                .then(task)
                .then((value) => {
                    const resolved = Date.now();
                    owner.durations.add(resolved - started);
                    if (owner.threadPool && owner.threadPool.durations) {
                        owner.threadPool.durations.add(resolved - started);
                    }
                    resolve(value);
                    owner.delays.add(Date.now() - resolved);
                }, reject);
        });
    });
}

module.exports = { DurationDistribution, timed };
