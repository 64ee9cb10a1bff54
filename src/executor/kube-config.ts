// A KubeConfig whose API clients keep their connections. @kubernetes/client-node 2.0.1 builds a new undici Agent for
// every request (KubeConfig.applySecurityAuthentication → createDispatcher, dist/config.js), so each call opened a new
// TLS connection to the API server: a handshake per call, on the event loop, which under a fleet held back the acks.
// kubernetes-client/javascript#2893 is the same defect for the https.Agent path. One kubeconfig holds one cluster's
// credentials, so its requests can share one dispatcher.
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class PooledKubeConfig extends KubeConfig {
  private dispatcher: Dispatcher | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getDispatcher();
    if (!made) return;
    if (!this.dispatcher) {
      this.dispatcher = made;
      return;
    }
    context.setDispatcher(this.dispatcher);
    // Never used, so it holds no connection.
    void made.close();
  }
}
