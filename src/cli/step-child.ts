// Entry of a forked step process (the child-process executor): serves one step with the kind registry.
import {serveStepInChild} from '../engine/child-step-server.js';
import {stepKinds} from '../steps/index.js';

serveStepInChild(stepKinds);
