import { MemoryStateStore } from '../../lib/state/memory';
import { describeRateAndOnceContract, describeStateStoreContract } from './stateStore.contract';

describeStateStoreContract('memory', async () => new MemoryStateStore());
describeRateAndOnceContract('memory', async () => new MemoryStateStore());
