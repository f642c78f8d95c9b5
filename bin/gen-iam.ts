import { writeFileSync } from 'node:fs';
import { iamPolicyText } from '../src/actions/iam-policy.js';

// Writes iam-policy.json and iam-policy.readonly.json from the action catalogue.
writeFileSync('iam-policy.json', iamPolicyText({ readonly: false }));
writeFileSync('iam-policy.readonly.json', iamPolicyText({ readonly: true }));
console.log('wrote iam-policy.json and iam-policy.readonly.json');
