// Every route area of berthd, one line each. server.ts registers them all (in the alphabetical order of these
// export names); areas that share a path — `POST /images/create` is import (fromSrc, images.ts) and pull
// (fromImage, distribution.ts) — return PASS (router.ts) from a handler for requests that are not theirs.
export { default as archive } from './archive.ts';
export { default as build } from './build.ts';
export { default as containers } from './containers.ts';
export { default as distribution } from './distribution.ts';
export { default as exec } from './exec.ts';
export { default as health } from './health.ts';
export { default as images } from './images.ts';
export { default as networks } from './networks.ts';
export { default as system } from './system.ts';
export { default as update } from './update.ts';
export { default as volumes } from './volumes.ts';
