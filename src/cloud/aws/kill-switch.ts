import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { awsCall } from './errors.js';

/**
 * The kill switch as an SSM parameter, so on-call can stop every execution without a redeploy:
 * `aws ssm put-parameter --name NAME --value on --overwrite`. Any value other than "off" — and a
 * parameter that cannot be read — counts as on: the switch fails closed.
 */
export class SsmKillSwitch {
  constructor(
    private readonly ssm: SSMClient,
    private readonly name: string,
  ) {}

  async isOn(signal: AbortSignal): Promise<boolean> {
    try {
      const out = await awsCall('ssm.GetParameter', signal, () => this.ssm.send(new GetParameterCommand({ Name: this.name }), { abortSignal: signal }));
      return (out.Parameter?.Value ?? '').trim().toLowerCase() !== 'off';
    } catch {
      return true;
    }
  }
}
